package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The storage engine of one pageserver: every timeline, their layers and the shared ingest log,
 * kept in one directory.
 *
 * <p>A timeline is an append-only history of versions of a filesystem namespace (inodes, their
 * 8 KB pages, attributes and directory entries), addressed by LSN. A branch is a timeline
 * created with an ancestor {@code (timeline, lsn)}: creating it copies no page, whatever the
 * ancestor's size; reads below its start fall through to the ancestor at that LSN.
 *
 * <p>Thread-safety: all methods are safe to call from any thread.
 *
 * <p>Crash behaviour: {@link #open} recovers the directory after any crash. Everything a
 * {@link Timeline#sync()} acknowledged is present after recovery; an unsynced suffix may be
 * lost, never partially applied within one mutating call. A corrupt layer file is reported as
 * an {@link IOException} naming the file and offset, never served as a wrong page.
 */
public interface PageStore extends AutoCloseable {

    /** Opens (creating if absent) the store in {@code directory} and recovers it. */
    static PageStore open(Path directory, StoreOptions options) throws IOException {
        return StoreFactory.open(directory, options);
    }

    /**
     * Creates a timeline without ancestor whose namespace holds only the root directory
     * ({@link Namespace#ROOT_INODE}, mode 0700, owned by {@code uid}/{@code gid}).
     * Durable when this returns.
     */
    TimelineId createRootTimeline(int uid, int gid) throws IOException;

    /**
     * Creates a branch of {@code ancestor} as of {@code ancestorLsn}: O(1), no page copied.
     * The ancestor's history up to {@code ancestorLsn} is made durable first, and the new
     * timeline record is durable when this returns. The new timeline's first write gets an LSN
     * above {@code ancestorLsn}.
     *
     * @throws NoSuchTimelineException if {@code ancestor} does not exist
     * @throws IllegalArgumentException if {@code ancestorLsn} is above the ancestor's last LSN
     *     or below its start
     */
    default TimelineId createBranch(TimelineId ancestor, long ancestorLsn) throws IOException {
        return createBranch(ancestor, ancestorLsn, ancestorLsn);
    }

    /**
     * As {@link #createBranch(TimelineId, long)}, with the new timeline's own LSNs starting above
     * {@code lsnFloor} (if it is above {@code ancestorLsn}). A branch that is reset or restored
     * gets a new timeline; giving it the old timeline's last LSN as floor keeps the branch's LSNs
     * growing, so that an LSN noted before the reset can never name a state after it.
     */
    TimelineId createBranch(TimelineId ancestor, long ancestorLsn, long lsnFloor) throws IOException;

    /**
     * The timeline, or throws {@link NoSuchTimelineException} (or
     * {@link QuarantinedTimelineException} for a quarantined one).
     */
    Timeline timeline(TimelineId id) throws NoSuchTimelineException;

    /** All live timelines (quarantined ones are not among them). */
    Set<TimelineId> timelines();

    /**
     * Timelines the store holds back from serving, with why: a layer file of theirs (or of an
     * ancestor) failed its checks at open, or the ingest log they wrote to was damaged. Their
     * files are kept as they are; {@link #timeline} throws {@link QuarantinedTimelineException}
     * for them; {@link #deleteTimeline} purges one (an operator's decision), and
     * {@link StoreRepair} releases one once its damage is dealt with.
     */
    Map<TimelineId, String> quarantined();

    /** The ancestor of {@code id} and the LSN it branched at; empty for a root timeline. */
    Optional<Ancestor> ancestor(TimelineId id) throws NoSuchTimelineException;

    /**
     * Deletes a timeline. Refused ({@link IllegalStateException}) while another timeline has it
     * as ancestor. The space only it used is reclaimed (now or by a later GC).
     */
    void deleteTimeline(TimelineId id) throws IOException;

    /**
     * Raises the GC horizon of a timeline to {@code horizonLsn} and compacts it: afterwards its
     * history below the horizon is no longer readable ({@link Timeline#at} and
     * {@link #createBranch} refuse such LSNs), except at the LSNs its children branched at,
     * which stay readable for them; every version nothing can read any more is dropped, and the
     * timeline's layer files are merged so that reads do not walk many files.
     *
     * <p>A horizon at or below the current one only compacts. The horizon is durable (in the
     * manifest) before any version is dropped. Temporary timelines (a throwaway compute at an old
     * point) are children like any other and pin their branch point until deleted.
     *
     * @throws NoSuchTimelineException if {@code id} does not exist
     * @throws IllegalArgumentException if {@code horizonLsn} is above the timeline's last LSN
     */
    GcResult collectGarbage(TimelineId id, long horizonLsn) throws IOException;

    /** The disk space one timeline uses, split into what only it uses and what it shares. */
    TimelineUsage usage(TimelineId id) throws IOException;

    /** Freezes and writes every open in-memory layer to a layer file (tests, shutdown). */
    void flush() throws IOException;

    /**
     * Reads and checks everything the store holds: every value of every layer file (live and
     * quarantined timelines), the manifest, and every ingest log record; lists the quarantined
     * timelines and the files kept aside. Changes nothing. Takes as long as reading the store.
     */
    StoreReport verify() throws IOException;

    /** Counters for metrics and tests: layers, bytes on disk, cache hits. */
    StoreStats stats();

    /** Flushes what is needed for a fast restart and releases files. Idempotent. */
    @Override
    void close() throws IOException;
}
