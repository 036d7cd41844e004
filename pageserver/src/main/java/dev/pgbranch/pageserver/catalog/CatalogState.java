package dev.pgbranch.pageserver.catalog;

import dev.pgbranch.storage.TimelineId;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntPredicate;

/**
 * One immutable version of the whole catalog: projects, the branch-port allocator, the
 * timelines waiting to be deleted and the timelines kept in quarantine.
 *
 * @param portBase first port handed to branches
 * @param nextPort where the next port search starts; only moves forward (wrapping at 65535 to
 *     {@code portBase}) so a deleted branch's port is not handed out again soon
 * @param projects by name
 * @param retiredTimelines timelines no branch points at any more (after reset / delete) that
 *     could not be deleted yet because another timeline branched from them; deleted once free
 * @param quarantinedTimelines timelines of the store that no catalog version listed when the
 *     server found them (a crash between a storage change and its catalog record, a catalog
 *     restored from an older backup): kept, not served, never deleted by the server itself;
 *     an operator adopts them as branches or purges them ({@code pgbranch store quarantine})
 * @param temporaryTimelines timelines of throwaway computes (time travel, a schema diff's base)
 *     while they run; none survives a restart, so the next start retires them
 *
 * <p>The constructor checks the cross-project invariants: branch ports unique, timelines not
 * shared between branches.
 */
public record CatalogState(int portBase, int nextPort, Map<String, Project> projects,
                           Set<TimelineId> retiredTimelines, Set<TimelineId> quarantinedTimelines,
                           Set<TimelineId> temporaryTimelines) {

    /** A state with nothing in quarantine and no temporary timeline. */
    public CatalogState(int portBase, int nextPort, Map<String, Project> projects, Set<TimelineId> retiredTimelines) {
        this(portBase, nextPort, projects, retiredTimelines, Set.of(), Set.of());
    }

    public CatalogState {
        if (portBase < 1 || portBase > 65535 || nextPort < 1 || nextPort > 65535) {
            throw new IllegalArgumentException("port base/next out of range: " + portBase + "/" + nextPort);
        }
        projects = Collections.unmodifiableMap(new TreeMap<>(projects));
        retiredTimelines = Collections.unmodifiableSet(new TreeSet<>(retiredTimelines));
        quarantinedTimelines = Collections.unmodifiableSet(new TreeSet<>(quarantinedTimelines));
        temporaryTimelines = Collections.unmodifiableSet(new TreeSet<>(temporaryTimelines));
        for (TimelineId id : quarantinedTimelines) {
            if (retiredTimelines.contains(id) || temporaryTimelines.contains(id)) {
                throw new IllegalArgumentException("timeline " + id + " is listed as quarantined and as retired or temporary");
            }
        }
        for (TimelineId id : temporaryTimelines) {
            if (retiredTimelines.contains(id)) {
                throw new IllegalArgumentException("timeline " + id + " is listed both as retired and as temporary");
            }
        }
        Map<Integer, String> ports = new HashMap<>();
        Map<TimelineId, String> timelines = new HashMap<>();
        for (Project project : projects.values()) {
            for (Branch branch : project.branches().values()) {
                String who = project.name() + "/" + branch.name();
                String previous = ports.put(branch.port(), who);
                if (previous != null) {
                    throw new IllegalArgumentException("port " + branch.port() + " is given to both '"
                            + previous + "' and '" + who + "'");
                }
                previous = timelines.put(branch.timeline(), who);
                if (previous != null) {
                    throw new IllegalArgumentException("timeline " + branch.timeline() + " is used by both '"
                            + previous + "' and '" + who + "'");
                }
                if (retiredTimelines.contains(branch.timeline())) {
                    throw new IllegalArgumentException("timeline " + branch.timeline() + " of '" + who
                            + "' is also listed as retired");
                }
                if (quarantinedTimelines.contains(branch.timeline()) || temporaryTimelines.contains(branch.timeline())) {
                    throw new IllegalArgumentException("timeline " + branch.timeline() + " of '" + who
                            + "' is also listed as quarantined or temporary");
                }
            }
        }
    }

    public static CatalogState empty(int portBase) {
        return new CatalogState(portBase, portBase, Map.of(), Set.of());
    }

    public Optional<Project> project(String name) {
        return Optional.ofNullable(projects.get(name));
    }

    /** Every timeline a branch points at. */
    public Set<TimelineId> liveTimelines() {
        Set<TimelineId> live = new TreeSet<>();
        projects.values().forEach(p -> p.branches().values().forEach(b -> live.add(b.timeline())));
        return live;
    }

    /**
     * The state with {@code project} replaced. A temporary timeline that a branch of it now
     * points at (a rebase keeps the timeline its temporary compute replayed onto) is temporary no
     * more: it is the branch's.
     */
    public CatalogState withProject(Project project) {
        Map<String, Project> copy = new TreeMap<>(projects);
        copy.put(project.name(), project);
        Set<TimelineId> temporary = new TreeSet<>(temporaryTimelines);
        project.branches().values().forEach(b -> temporary.remove(b.timeline()));
        return new CatalogState(portBase, nextPort, copy, retiredTimelines, quarantinedTimelines, temporary);
    }

    public CatalogState withRetired(TimelineId timeline) {
        Set<TimelineId> copy = new TreeSet<>(retiredTimelines);
        copy.add(timeline);
        return new CatalogState(portBase, nextPort, projects, copy, quarantinedTimelines, temporaryTimelines);
    }

    public CatalogState withoutRetired(TimelineId timeline) {
        Set<TimelineId> copy = new TreeSet<>(retiredTimelines);
        copy.remove(timeline);
        return new CatalogState(portBase, nextPort, projects, copy, quarantinedTimelines, temporaryTimelines);
    }

    /** Every timeline this catalog knows: live, retired, quarantined or temporary. */
    public Set<TimelineId> knownTimelines() {
        Set<TimelineId> known = liveTimelines();
        known.addAll(retiredTimelines);
        known.addAll(quarantinedTimelines);
        known.addAll(temporaryTimelines);
        return known;
    }

    public CatalogState withTemporary(TimelineId timeline) {
        Set<TimelineId> copy = new TreeSet<>(temporaryTimelines);
        copy.add(timeline);
        return new CatalogState(portBase, nextPort, projects, retiredTimelines, quarantinedTimelines, copy);
    }

    public CatalogState withoutTemporary(TimelineId timeline) {
        Set<TimelineId> copy = new TreeSet<>(temporaryTimelines);
        copy.remove(timeline);
        return new CatalogState(portBase, nextPort, projects, retiredTimelines, quarantinedTimelines, copy);
    }

    /** Every temporary timeline retired: at start, when no throwaway compute runs any more. */
    public CatalogState withTemporaryRetired() {
        if (temporaryTimelines.isEmpty()) {
            return this;
        }
        Set<TimelineId> retired = new TreeSet<>(retiredTimelines);
        retired.addAll(temporaryTimelines);
        return new CatalogState(portBase, nextPort, projects, retired, quarantinedTimelines, Set.of());
    }

    public CatalogState withQuarantined(Set<TimelineId> timelines) {
        Set<TimelineId> copy = new TreeSet<>(quarantinedTimelines);
        copy.addAll(timelines);
        return new CatalogState(portBase, nextPort, projects, retiredTimelines, copy, temporaryTimelines);
    }

    public CatalogState withoutQuarantined(TimelineId timeline) {
        Set<TimelineId> copy = new TreeSet<>(quarantinedTimelines);
        copy.remove(timeline);
        return new CatalogState(portBase, nextPort, projects, retiredTimelines, copy, temporaryTimelines);
    }

    /**
     * Restarts port allocation at {@code base} when the server is started with a different
     * {@code --branch-port-base}; existing branches keep their ports.
     */
    public CatalogState withPortBase(int base) {
        return base == portBase ? this
                : new CatalogState(base, base, projects, retiredTimelines, quarantinedTimelines, temporaryTimelines);
    }

    /**
     * Picks the next port at or after {@link #nextPort} that no branch holds and that
     * {@code available} accepts (e.g. nothing else listens on it right now), and returns it
     * with the state whose {@code nextPort} is past it.
     *
     * @throws IllegalStateException when every port from the base to 65535 is taken
     */
    public PortAllocation allocatePort(IntPredicate available) {
        Set<Integer> taken = new java.util.HashSet<>();
        projects.values().forEach(p -> p.branches().values().forEach(b -> taken.add(b.port())));
        int candidate = nextPort;
        int span = 65536 - portBase;
        for (int tried = 0; tried < span; tried++) {
            if (!taken.contains(candidate) && available.test(candidate)) {
                int next = candidate == 65535 ? portBase : candidate + 1;
                return new PortAllocation(candidate, new CatalogState(portBase, next, projects, retiredTimelines,
                        quarantinedTimelines, temporaryTimelines));
            }
            candidate = candidate == 65535 ? portBase : candidate + 1;
        }
        throw new IllegalStateException("no free branch port left between " + portBase + " and 65535");
    }

    /** A port and the catalog state that records it as allocated. */
    public record PortAllocation(int port, CatalogState state) {
        public PortAllocation {
            Objects.requireNonNull(state, "state");
        }
    }
}
