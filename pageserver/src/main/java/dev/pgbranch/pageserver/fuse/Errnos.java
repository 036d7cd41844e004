package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.NamespaceException;
import dev.pgbranch.storage.NoSuchTimelineException;

import java.io.IOException;
import java.nio.file.FileSystemException;

/**
 * Linux errno values and the single mapping from a Java failure to the {@code -errno} a FUSE
 * upcall returns. jfuse's own {@code Errno} lacks ENOSPC, EFBIG, EXDEV..., and the values are the
 * same on every Linux architecture we run on (the generic table), so they are spelled out here.
 *
 * <p>Thread-safety: stateless.
 */
final class Errnos {

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EIO = 5;
    static final int EBADF = 9;
    static final int ENOMEM = 12;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int ENOTDIR = 20;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int ENAMETOOLONG = 36;
    static final int ENOSYS = 38;
    static final int ENOTEMPTY = 39;

    private Errnos() {
    }

    /** The positive errno for a namespace refusal. */
    static int of(NamespaceException.Reason reason) {
        return switch (reason) {
            case NOT_FOUND -> ENOENT;
            case EXISTS -> EEXIST;
            case NOT_A_DIRECTORY -> ENOTDIR;
            case IS_A_DIRECTORY -> EISDIR;
            case NOT_EMPTY -> ENOTEMPTY;
            case INVALID_NAME, INVALID_ARGUMENT -> EINVAL;
            case FILE_TOO_LARGE -> EFBIG;
            case NO_SPACE -> ENOSPC;
        };
    }

    /**
     * The positive errno for any failure of an upcall. Disk full is recognised whether the
     * engine reports it as a {@link NamespaceException} or passes the JDK's exception through.
     */
    static int of(Throwable failure) {
        return switch (failure) {
            case NamespaceException e -> of(e.reason());
            case TimelineFilesystem.NameTooLongException _ -> ENAMETOOLONG;
            case IOException e when isDiskFull(e) -> ENOSPC;
            case IOException _ -> EIO;
            case NoSuchTimelineException _ -> EIO;
            case IllegalArgumentException _ -> EINVAL;
            case UnsupportedOperationException _ -> ENOSYS;
            case OutOfMemoryError _ -> ENOMEM;
            default -> EIO;
        };
    }

    private static boolean isDiskFull(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t instanceof FileSystemException fse ? fse.getReason() : t.getMessage();
            if (message != null && message.contains("No space left on device")) {
                return true;
            }
        }
        return false;
    }
}
