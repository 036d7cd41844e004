package dev.pgbranch.pageserver.fuse;

import java.nio.ByteBuffer;
import java.util.Set;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseConfig;
import org.cryptomator.jfuse.api.FuseConnInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;
import org.cryptomator.jfuse.api.TimeSpec;

/**
 * Counts each FUSE request ({@link FuseRequests}) before handing it to the filesystem it wraps.
 * Delegates every operation the filesystem supports, nothing else. Thread-safe if the wrapped one is.
 */
final class CountingOperations implements FuseOperations {

    private final FuseOperations filesystem;
    private final FuseRequests requests;

    CountingOperations(FuseOperations filesystem, FuseRequests requests) {
        this.filesystem = filesystem;
        this.requests = requests;
    }

    @Override
    public Errno errno() {
        return filesystem.errno();
    }

    @Override
    public Set<Operation> supportedOperations() {
        return filesystem.supportedOperations();
    }

    @Override
    public void init(FuseConnInfo connection, FuseConfig config) {
        requests.count(Operation.INIT);
        filesystem.init(connection, config);
    }

    @Override
    public void destroy() {
        filesystem.destroy();
    }

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        requests.count(Operation.GET_ATTR);
        return filesystem.getattr(path, stat, fi);
    }

    @Override
    public int access(String path, int mask) {
        requests.count(Operation.ACCESS);
        return filesystem.access(path, mask);
    }

    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        requests.count(Operation.READ_DIR);
        return filesystem.readdir(path, filler, offset, fi, flags);
    }

    @Override
    public int mkdir(String path, int mode) {
        requests.count(Operation.MKDIR);
        return filesystem.mkdir(path, mode);
    }

    @Override
    public int rmdir(String path) {
        requests.count(Operation.RMDIR);
        return filesystem.rmdir(path);
    }

    @Override
    public int unlink(String path) {
        requests.count(Operation.UNLINK);
        return filesystem.unlink(path);
    }

    @Override
    public int rename(String from, String to, int flags) {
        requests.count(Operation.RENAME);
        return filesystem.rename(from, to, flags);
    }

    @Override
    public int create(String path, int mode, FileInfo fi) {
        requests.count(Operation.CREATE);
        return filesystem.create(path, mode, fi);
    }

    @Override
    public int open(String path, FileInfo fi) {
        requests.count(Operation.OPEN);
        return filesystem.open(path, fi);
    }

    @Override
    public int read(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        requests.count(Operation.READ);
        return filesystem.read(path, buf, size, offset, fi);
    }

    @Override
    public int write(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        requests.count(Operation.WRITE);
        return filesystem.write(path, buf, size, offset, fi);
    }

    @Override
    public int truncate(String path, long size, FileInfo fi) {
        requests.count(Operation.TRUNCATE);
        return filesystem.truncate(path, size, fi);
    }

    @Override
    public int chmod(String path, int mode, FileInfo fi) {
        requests.count(Operation.CHMOD);
        return filesystem.chmod(path, mode, fi);
    }

    @Override
    public int chown(String path, int uid, int gid, FileInfo fi) {
        requests.count(Operation.CHOWN);
        return filesystem.chown(path, uid, gid, fi);
    }

    @Override
    public int utimens(String path, TimeSpec atime, TimeSpec mtime, FileInfo fi) {
        requests.count(Operation.UTIMENS);
        return filesystem.utimens(path, atime, mtime, fi);
    }

    @Override
    public int flush(String path, FileInfo fi) {
        requests.count(Operation.FLUSH);
        return filesystem.flush(path, fi);
    }

    @Override
    public int fsync(String path, int datasync, FileInfo fi) {
        requests.count(Operation.FSYNC);
        return filesystem.fsync(path, datasync, fi);
    }

    @Override
    public int fsyncdir(String path, int datasync, FileInfo fi) {
        requests.count(Operation.FSYNCDIR);
        return filesystem.fsyncdir(path, datasync, fi);
    }

    @Override
    public int release(String path, FileInfo fi) {
        requests.count(Operation.RELEASE);
        return filesystem.release(path, fi);
    }

    @Override
    public int statfs(String path, Statvfs statvfs) {
        requests.count(Operation.STATFS);
        return filesystem.statfs(path, statvfs);
    }
}
