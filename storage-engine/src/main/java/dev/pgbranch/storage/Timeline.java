package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One timeline: its head is a writable {@link Namespace}; {@link #at(long)} gives read-only
 * views of any earlier LSN (down to the ancestor's history below the branch point).
 *
 * <p>Every mutating call is atomic (after a crash it is either wholly present or wholly absent)
 * and advances {@link #lastLsn()} by at least one (by exactly one in this engine: LSNs count
 * mutations). A call that changes nothing (a zero-length write, renaming a name onto itself or
 * onto another name of the same inode) advances nothing. A refused call (NamespaceException)
 * changes nothing. A mutation is durable once a later {@link #sync()} returns.
 *
 * <p>Thread-safety: safe for concurrent use; mutations are serialized internally (one writer
 * at a time), reads proceed concurrently with them.
 *
 * <p>Namespace errors (missing file, existing name, non-empty directory...) are thrown as
 * {@link NamespaceException} with a {@link NamespaceException.Reason}; I/O failures of the
 * store as other {@link IOException}s.
 */
public interface Timeline extends Namespace {

    TimelineId id();

    /** The ancestor and branch LSN; empty for a root timeline. */
    Optional<Ancestor> ancestor();

    /** The LSN of the last mutation (the LSN floor if nothing was written yet). */
    long lastLsn();

    /**
     * The LSN this timeline's own history starts above: its branch LSN, or the higher floor it
     * was created with ({@link PageStore#createBranch(TimelineId, long, long)}). Every LSN from
     * the branch LSN up to it reads the ancestor's state at the branch point.
     */
    long lsnFloor();

    /** The LSN of the last mutation made durable by {@link #sync()} or by a flush. */
    long durableLsn();

    /**
     * The lowest LSN of this timeline that {@link #at} still serves: history below it was given
     * up by {@link PageStore#collectGarbage} (0 if never collected).
     */
    long gcHorizon();

    /**
     * A read-only view as of {@code lsn}; {@link IllegalArgumentException} if above
     * {@link #lastLsn()} or below {@link #gcHorizon()}.
     */
    Namespace at(long lsn);

    /**
     * Creates a file or directory named {@code name} in {@code directory}.
     *
     * @param mode permission bits (e.g. 0600); the kind is given by {@code kind}
     * @return the new inode number (never reused within this timeline's lineage)
     * @throws NamespaceException EXISTS, NOT_FOUND, NOT_A_DIRECTORY, INVALID_NAME
     */
    long create(long directory, String name, InodeKind kind, int mode, int uid, int gid) throws IOException;

    /**
     * Writes {@code source}'s remaining bytes at {@code offset}, extending the file if needed
     * (a gap reads as zeros). Returns the number of bytes written (all of them).
     */
    int write(long inode, long offset, ByteBuffer source) throws IOException;

    /**
     * Sets the file's size. Shrinking discards the pages past it: extending the file again
     * later reads zeros there, never the old bytes.
     */
    void truncate(long inode, long size) throws IOException;

    /** Changes mode / owner / modification time; {@code null} fields are left as they are. */
    void setAttributes(long inode, Integer mode, Integer uid, Integer gid, Instant modified) throws IOException;

    /** Removes a file's name; its pages become garbage once no reachable LSN sees them. */
    void unlink(long directory, String name) throws IOException;

    /** Removes an empty directory ({@code NOT_EMPTY} otherwise). */
    void removeDirectory(long directory, String name) throws IOException;

    /**
     * Renames, replacing an existing target file or empty directory atomically (POSIX
     * {@code rename(2)} semantics).
     */
    void rename(long fromDirectory, String fromName, long toDirectory, String toName) throws IOException;

    /** Returns once every mutation made before the call is durable (group-committed). */
    void sync() throws IOException;

    /**
     * Records that {@link #lastLsn()} corresponds to {@code time} and, if known, to Postgres WAL
     * position {@code walPosition} ({@code X/Y}). The engine also records time marks on its own
     * as writes are synced, so {@link #lsnAt} works without explicit marks.
     */
    void mark(Instant time, String walPosition) throws IOException;

    /** The newest LSN recorded at or before {@code time}, if any (this timeline's own marks). */
    OptionalLong lsnAt(Instant time);

    /** The recorded marks, oldest first (a copy: prefer {@link #lsnAt} and {@link #firstMarkAtOrAbove}). */
    List<Mark> marks();

    /** The oldest recorded mark at or above {@code lsn}, by binary search. */
    Optional<Mark> firstMarkAtOrAbove(long lsn);

    /** A recorded correspondence between an LSN, a wall-clock time and a WAL position. */
    record Mark(long lsn, Instant time, String walPosition) {
    }
}
