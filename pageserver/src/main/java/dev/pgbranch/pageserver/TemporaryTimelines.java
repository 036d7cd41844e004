package dev.pgbranch.pageserver;

import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.GcResult;
import dev.pgbranch.storage.NoSuchTimelineException;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreReport;
import dev.pgbranch.storage.StoreStats;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import dev.pgbranch.storage.TimelineUsage;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The store as the throwaway computes see it (time travel, a schema diff's base): every branch
 * they create is recorded in the catalog as temporary right after the store made it, and taken
 * out again when they delete it. A server that dies while one runs finds it listed at the next
 * start, which retires it, so the normal cleanup deletes it: nothing is deleted because the
 * catalog does not know it. (A crash between the creation and its record leaves a timeline no
 * catalog lists: it is quarantined, never deleted.)
 *
 * <p>Everything else goes to the store as it is. {@link #close} does nothing: the server closes
 * the store itself. Thread-safe as the store and the catalog are.
 */
final class TemporaryTimelines implements PageStore {

    private final PageStore store;
    private final Catalog catalog;

    TemporaryTimelines(PageStore store, Catalog catalog) {
        this.store = store;
        this.catalog = catalog;
    }

    @Override
    public TimelineId createBranch(TimelineId ancestor, long ancestorLsn, long lsnFloor) throws IOException {
        TimelineId id = store.createBranch(ancestor, ancestorLsn, lsnFloor);
        catalog.update(s -> s.withTemporary(id));
        return id;
    }

    @Override
    public void deleteTimeline(TimelineId id) throws IOException {
        store.deleteTimeline(id);
        catalog.update(s -> s.temporaryTimelines().contains(id) ? s.withoutTemporary(id) : s);
    }

    @Override
    public TimelineId createRootTimeline(int uid, int gid) throws IOException {
        return store.createRootTimeline(uid, gid);
    }

    @Override
    public Timeline timeline(TimelineId id) throws NoSuchTimelineException {
        return store.timeline(id);
    }

    @Override
    public Set<TimelineId> timelines() {
        return store.timelines();
    }

    @Override
    public Optional<Ancestor> ancestor(TimelineId id) throws NoSuchTimelineException {
        return store.ancestor(id);
    }

    @Override
    public GcResult collectGarbage(TimelineId id, long horizonLsn) throws IOException {
        return store.collectGarbage(id, horizonLsn);
    }

    @Override
    public TimelineUsage usage(TimelineId id) throws IOException {
        return store.usage(id);
    }

    @Override
    public void flush() throws IOException {
        store.flush();
    }

    @Override
    public StoreStats stats() {
        return store.stats();
    }

    @Override
    public Map<TimelineId, String> quarantined() {
        return store.quarantined();
    }

    @Override
    public StoreReport verify() throws IOException {
        return store.verify();
    }

    @Override
    public void close() {
        // The server closes the store.
    }
}
