package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.Branch;
import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.pageserver.catalog.CatalogState;
import dev.pgbranch.pageserver.catalog.Project;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.NoSuchTimelineException;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import dev.pgbranch.storage.TimelineUsage;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The store's quarantine: timelines that no catalog listed when the server found them. They are
 * kept and not served; the server never deletes them by itself. An operator looks at them
 * ({@link #list}: ancestry, size, last write), gives one a branch again ({@link #adopt}), or
 * deletes it ({@link #purge}, the only path that does).
 *
 * <p>How a timeline gets here: {@link #admitUnknown} at every start, before anything else uses
 * the store, quarantines what the catalog does not know: a timeline made just before a crash
 * cut its catalog record off, or every timeline newer than a catalog put back from a backup.
 * Timelines the catalog itself retired (delete, reset, restore) are not quarantined; the normal
 * cleanup deletes those.
 *
 * <p>Thread-safety: safe for concurrent use; every change is one catalog update, which the
 * catalog serializes, and a purge is serialized with the branch service's own cleanup.
 */
public final class Quarantine {

    private static final System.Logger LOG = System.getLogger(Quarantine.class.getName());

    private final Catalog catalog;
    private final PageStore store;
    private final BranchService branches;

    public Quarantine(Catalog catalog, PageStore store, BranchService branches) {
        this.catalog = catalog;
        this.store = store;
        this.branches = branches;
    }

    /**
     * What the operator sees of one quarantined timeline.
     *
     * @param ancestor the timeline it branched from, or null for a root timeline
     * @param ancestorLsn the LSN it branched at (0 for a root)
     * @param ancestorBranch the branch (as {@code project/name}) whose timeline is its ancestor,
     *     or null when the ancestor is not a branch's timeline
     * @param children quarantined or other timelines that branch from it (a purge must wait for them)
     * @param ownBytes bytes of its own layer files, or -1 if unknown
     * @param pendingBytes bytes not yet in a layer file, or -1 if unknown
     * @param lastLsn its write position
     * @param lastWrite the time of its newest time mark (about its last write), or null if it has none
     */
    public record Entry(TimelineId timeline, TimelineId ancestor, long ancestorLsn, String ancestorBranch,
                        List<TimelineId> children, long ownBytes, long pendingBytes, long lastLsn, Instant lastWrite) {
    }

    /**
     * Quarantines every timeline of the store that the catalog lists neither as a branch's, nor
     * as retired, nor as quarantined already. Called once at start; logs what it found.
     *
     * @return the newly quarantined timelines
     */
    public Set<TimelineId> admitUnknown() throws IOException {
        Set<TimelineId> unknown = new TreeSet<>(store.timelines());
        unknown.removeAll(catalog.state().knownTimelines());
        if (!unknown.isEmpty()) {
            catalog.update(s -> s.withQuarantined(unknown));
            LOG.log(System.Logger.Level.WARNING, "the store holds {0} timeline(s) that catalog.json does not list: {1}. "
                    + "They are quarantined (kept, not served, never deleted by the server): see 'pgbranch store "
                    + "quarantine list', then 'adopt' or 'purge' each", unknown.size(), unknown);
        }
        return unknown;
    }

    /** The quarantined timelines, by id. */
    public List<Entry> list() {
        CatalogState state = catalog.state();
        List<Entry> out = new ArrayList<>();
        for (TimelineId id : state.quarantinedTimelines()) {
            try {
                out.add(entry(state, id));
            } catch (NoSuchTimelineException e) {
                // Gone from the store (purged meanwhile): not listed.
            }
        }
        return out;
    }

    /**
     * Makes the quarantined {@code timeline} a branch {@code name} of {@code project} again,
     * under {@code parent} or, when null, the nearest branch it descends from.
     */
    public BranchInfo adopt(String timeline, String project, String name, String parent) {
        TimelineId id = quarantined(timeline);
        return branches.adopt(project, name, id, parent);
    }

    /**
     * Deletes the quarantined {@code timeline} from the store for good: refused while another
     * timeline branches from it.
     */
    public void purge(String timeline) {
        TimelineId id = quarantined(timeline);
        List<TimelineId> children = children(id);
        if (!children.isEmpty()) {
            throw new BranchException(ErrorCode.HAS_CHILDREN, "timeline " + id + " has child timelines " + children
                    + "; adopt or purge them first");
        }
        try {
            synchronized (branches) { // the branch service's cleanup reads the store's ancestry under this lock
                store.deleteTimeline(id);
            }
            catalog.update(s -> s.withoutQuarantined(id));
        } catch (IOException | IllegalStateException e) {
            throw new BranchException(ErrorCode.INTERNAL, "purging timeline " + id + " failed: " + e.getMessage(), e);
        }
        LOG.log(System.Logger.Level.WARNING, "purged quarantined timeline {0} (deleted from the store on the "
                + "operator''s request)", id);
    }

    private TimelineId quarantined(String text) {
        TimelineId id;
        try {
            id = TimelineId.parse(text);
        } catch (IllegalArgumentException e) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "'" + text + "' is not a timeline id (32 hex digits, as "
                    + "'pgbranch store quarantine list' prints them)");
        }
        if (!catalog.state().quarantinedTimelines().contains(id)) {
            throw new BranchException(ErrorCode.NOT_FOUND, "timeline " + id + " is not in quarantine");
        }
        return id;
    }

    private Entry entry(CatalogState state, TimelineId id) {
        Optional<Ancestor> ancestor = store.ancestor(id);
        String ancestorBranch = ancestor.map(a -> branchOf(state, a.timeline())).orElse(null);
        long own = -1;
        long pending = -1;
        try {
            TimelineUsage usage = store.usage(id);
            own = usage.ownBytes();
            pending = usage.pendingBytes();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "usage of quarantined timeline {0} unavailable: {1}", id, e.toString());
        }
        Timeline timeline = store.timeline(id);
        List<Timeline.Mark> marks = timeline.marks();
        Instant lastWrite = marks.isEmpty() ? null : marks.getLast().time();
        return new Entry(id, ancestor.map(Ancestor::timeline).orElse(null), ancestor.map(Ancestor::lsn).orElse(0L),
                ancestorBranch, children(id), own, pending, timeline.lastLsn(), lastWrite);
    }

    private static String branchOf(CatalogState state, TimelineId timeline) {
        for (Project p : state.projects().values()) {
            for (Branch b : p.branches().values()) {
                if (b.timeline().equals(timeline)) {
                    return p.name() + "/" + b.name();
                }
            }
        }
        return null;
    }

    private List<TimelineId> children(TimelineId id) {
        List<TimelineId> out = new ArrayList<>();
        for (TimelineId other : store.timelines()) {
            try {
                if (store.ancestor(other).map(a -> a.timeline().equals(id)).orElse(false)) {
                    out.add(other);
                }
            } catch (NoSuchTimelineException e) {
                // deleted meanwhile
            }
        }
        return out;
    }
}
