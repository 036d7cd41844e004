package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of a timeline's filesystem namespace at one LSN: what a FUSE filesystem
 * needs to serve lookups, attributes, directory listings and reads.
 *
 * <p>Files are arrays of 8 KB pages ({@link #PAGE_SIZE}) plus an exact byte size; bytes past
 * the size read as absent, holes inside it read as zeros.
 *
 * <p>Thread-safety: safe for concurrent readers. A view at a fixed LSN never changes; the
 * head view of a {@link Timeline} reflects every mutation that returned before the call.
 */
public interface Namespace {

    /** The root directory's inode in every timeline. */
    long ROOT_INODE = 1;

    /** {@link #lookup} result when the name does not exist. */
    long NO_INODE = 0;

    int PAGE_SIZE = 8192;

    /** The LSN this view reads at. */
    long lsn();

    /** The inode's attributes, or empty if it does not exist at this LSN. */
    Optional<InodeAttributes> attributes(long inode) throws IOException;

    /**
     * The inode named {@code name} in {@code directory}, or {@link #NO_INODE}. {@code "."} is the
     * directory itself and {@code ".."} its parent (the root is its own parent).
     *
     * @throws NamespaceException NOT_FOUND / NOT_A_DIRECTORY if {@code directory} is missing or a file
     */
    long lookup(long directory, String name) throws IOException;

    /**
     * The entries of {@code directory}, sorted by name, without "." and "..".
     *
     * @throws NamespaceException NOT_FOUND / NOT_A_DIRECTORY
     */
    List<DirectoryEntry> list(long directory) throws IOException;

    /**
     * Reads up to {@code destination.remaining()} bytes at {@code offset}, stopping at the end
     * of the file. Returns the count read (0 at or past the end).
     *
     * @throws NamespaceException NOT_FOUND / IS_A_DIRECTORY
     */
    int read(long inode, long offset, ByteBuffer destination) throws IOException;
}
