package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Every file operation of the engine goes through this boundary, so that tests can put a
 * simulated disk under it: one that keeps written-but-unsynced bytes apart and loses or tears
 * them at a simulated power cut, and fails a chosen fsync, write or rename (see the tests'
 * {@code FaultyDisk}). Production uses {@link OsDisk}.
 *
 * <p>The durability contract the engine codes against is POSIX's, not ext4's: data written to
 * a file is durable only after {@link FileChannel#force} returns; a create, rename or delete
 * is durable only after {@link #syncDirectory} of its directory returns; a failed force proves
 * nothing about the bytes written before it, and neither does a later successful one.
 *
 * <p>Files are created 0600 and directories 0700: the store holds every branch's pages,
 * {@code pg_authid} included.
 *
 * <p>Thread-safety: implementations are thread-safe.
 */
interface Disk {

    /** Opens a file; with CREATE or CREATE_NEW a new file gets mode 0600. */
    FileChannel open(Path path, OpenOption... options) throws IOException;

    /** Creates the directory and missing parents with mode 0700. */
    void createDirectories(Path directory) throws IOException;

    /** Renames atomically, replacing an existing target (rename(2)). */
    void move(Path from, Path to) throws IOException;

    /** Deletes a file; false if it did not exist. */
    boolean deleteIfExists(Path path) throws IOException;

    /** Makes the creates, renames and deletes in {@code directory} durable. */
    void syncDirectory(Path directory) throws IOException;

    /** The entries of a directory, in no particular order. */
    List<Path> list(Path directory) throws IOException;

    /** The whole content of a file; {@link java.nio.file.NoSuchFileException} if absent. */
    byte[] readAll(Path path) throws IOException;

    boolean exists(Path path);

    /** Bytes the store may still write on the file system holding {@code directory}. */
    long usableSpace(Path directory) throws IOException;
}
