package dev.pgbranch.pageserver.catalog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Crash-safe replacement of small files: the content goes to {@code <name>.tmp}, which is
 * fsynced, renamed over the target and the directory fsynced. After a crash at any point the
 * target holds either its old or its new content, never a mix; a leftover {@code .tmp} is
 * garbage that the next write truncates.
 *
 * <p>Stateless and thread-safe as long as two threads do not write the same target at once
 * (callers serialize writers of one file).
 */
public final class DurableFiles {

    /** Owner read/write only: every file of a data directory. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private DurableFiles() {
    }

    /**
     * Replaces {@code target} with {@code content}, readable by its owner only (0600): nothing in
     * a data directory is for other users.
     */
    public static void replace(Path target, byte[] content) throws IOException {
        replace(target, content, OWNER_ONLY);
    }

    /** Replaces {@code target} with {@code content}; the file gets {@code permissions} before any byte is written. */
    public static void replace(Path target, byte[] content, Set<PosixFilePermission> permissions) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        try {
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(permissions));
        } catch (FileAlreadyExistsException e) {
            throw new IOException("another writer is replacing " + target, e);
        }
        // createFile applies the umask: set the permissions explicitly before writing secrets.
        Files.setPosixFilePermissions(temp, permissions);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(target.toAbsolutePath().getParent());
    }

    /** Makes a directory's entries (creations, renames) durable. */
    public static void syncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
