package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.Branch;
import dev.pgbranch.pageserver.catalog.BranchName;
import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.pageserver.catalog.CatalogState;
import dev.pgbranch.pageserver.catalog.Project;
import dev.pgbranch.pageserver.compute.Compute;
import dev.pgbranch.pageserver.compute.ComputeException;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import dev.pgbranch.storage.TimelineUsage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntPredicate;

/**
 * The branch lifecycle of every project: create (at the parent's head or at a point in time),
 * reset from the parent, restore to a point (keeping the previous state as a backup branch
 * {@code <name>_old_<timestamp>} unless told not to), delete, protect, compute start/stop,
 * connection strings; the creation of a project (root timeline, {@code initdb}, {@code
 * production} and {@code development}); its retention window and disk usage.
 *
 * <p>Points in time are checked against what is still restorable: a point older than the
 * project's retention window, or below the timeline's GC horizon ({@link GarbageCollector}),
 * is refused with the oldest restorable time and LSN, which {@link #show} also reports.
 *
 * <p>Thread-safety: safe for concurrent use. Operations on one branch are serialized by a lock
 * per branch; an operation that also reads the parent (create, reset) locks the branch before
 * its parent, so locks are always taken from descendant to ancestor and cannot deadlock. The
 * catalog serializes its own writes.
 *
 * <p>Clients reach branches through {@link ClientEndpoints} (the wire proxy): each branch keeps
 * its stable port for life (opened when the server starts and when the branch is created,
 * closed when it is deleted, unchanged by reset and restore), while its compute listens on an
 * internal loopback port chosen free at every start and never shown to users. {@link #wake} and
 * {@link #suspend} are the proxy's way to start a compute on a client's first connection and to
 * stop it when it has been idle.
 *
 * <p>Crash behaviour: every operation makes its storage change first (a new timeline is
 * durable when {@link PageStore#createBranch} returns) and then records it in the catalog in
 * one atomic write. A crash in between leaves a timeline no branch points at, which the next
 * start quarantines ({@link Quarantine}): kept, never deleted on a guess. Timelines that lose their branch
 * (reset, restore, delete) are first recorded as retired in the catalog, then deleted once no
 * other timeline descends from them, so no crash can leave a branch pointing at a deleted
 * timeline.
 */
public final class BranchService {

    private static final System.Logger LOG = System.getLogger(BranchService.class.getName());

    /** The database and superuser every connection string names. */
    static final String SUPERUSER = "postgres";
    static final String DATABASE = "postgres";
    static final String HOST = "127.0.0.1";

    private final Catalog catalog;
    private final PageStore store;
    private final ComputeManager computes;
    private final ProjectSecrets secrets;
    private final IntPredicate portAvailable;
    private volatile ClientEndpoints endpoints = ClientEndpoints.NONE;
    private final LongAdder idleStops = new LongAdder();
    /** Compute key -> System.nanoTime() of the last start or wake, so an idle stop never races a wake. */
    private final Map<String, Long> lastStart = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /** Expired branches already reported as kept (protected...), so the log says it once. */
    private final Set<String> expiryWarnings = ConcurrentHashMap.newKeySet();
    /** Whether an unavailable disk usage was logged already (it would be for every branch of every list). */
    private final AtomicBoolean usageWarned = new AtomicBoolean();

    /**
     * @param portAvailable whether a port may be given to a new branch right now (nothing else
     *     listens on it); {@link #portIsFree} in production
     */
    public BranchService(Catalog catalog, PageStore store, ComputeManager computes, ProjectSecrets secrets,
                         IntPredicate portAvailable) {
        this.catalog = catalog;
        this.store = store;
        this.computes = computes;
        this.secrets = secrets;
        this.portAvailable = portAvailable;
    }

    /**
     * Hands client connections to {@code endpoints} from now on and opens the stable port of
     * every existing branch there. Called once at server start, before the API serves. A port
     * that cannot be opened (another process holds it) is logged; the branch stays reachable
     * through the routing port.
     */
    public void serveClients(ClientEndpoints endpoints) {
        this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
        for (Project p : catalog.state().projects().values()) {
            for (Branch branch : p.branches().values()) {
                openPort(p.name(), branch);
            }
        }
    }

    /** True if nothing listens on {@code 127.0.0.1:port} at the moment. */
    public static boolean portIsFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The compute key of a branch: {@code <project>.<name with '/' as '+'>}. Project names
     * have no '.', branch names no '+', so keys are unique, and they are safe as file names.
     */
    static String computeKey(String project, BranchName name) {
        return project + "." + name.value().replace('/', '+');
    }

    // ------------------------------------------------------------------------------------------
    // Projects

    public boolean projectExists(String project) {
        return catalog.state().project(project).isPresent();
    }

    /**
     * Creates a project: a root timeline, {@code initdb} through a FUSE mount of it, a
     * superuser password, {@code production} (protected) and {@code development} (child of
     * production). Takes as long as {@code initdb}.
     */
    public Project createProject(String name, int rootUid, int rootGid) {
        if (projectExists(name)) {
            throw new BranchException(ErrorCode.CONFLICT, "project '" + name + "' already exists");
        }
        try {
            TimelineId root = store.createRootTimeline(rootUid, rootGid);
            String password = secrets.create(name);
            try {
                computes.initializeCluster(root, password);
            } catch (ComputeException e) {
                throw new BranchException(ErrorCode.COMPUTE_FAILED, "initdb of project '" + name + "' failed: "
                        + e.getMessage(), e);
            }
            Timeline rootTimeline = store.timeline(root);
            rootTimeline.sync();
            long lsn = rootTimeline.lastLsn();
            TimelineId development = store.createBranch(root, lsn);
            Instant now = Instant.now();
            CatalogState state = catalog.update(s -> {
                CatalogState.PortAllocation first = s.allocatePort(portAvailable);
                Branch production = new Branch(BranchName.of("production"), null, root, now, 0, true, first.port());
                Project withRoot = new Project(name, now, Map.of(production.name(), production));
                CatalogState.PortAllocation second = first.state().withProject(withRoot).allocatePort(portAvailable);
                Branch dev = new Branch(BranchName.of("development"), production.name(), development, now, lsn,
                        false, second.port());
                return second.state().withProject(withRoot.withBranch(dev));
            });
            LOG.log(System.Logger.Level.INFO, "created project {0}: production on timeline {1}, development on {2}",
                    name, root, development);
            Project created = state.project(name).orElseThrow();
            created.branches().values().forEach(b -> openPort(name, b));
            return created;
        } catch (IOException e) {
            throw internal("creating project '" + name + "'", e);
        }
    }

    /** The project's retention window and disk usage. */
    public ProjectInfo projectInfo(String project) {
        Project p = project(project);
        long layerBytes = 0;
        long pending = 0;
        boolean known = true;
        Set<TimelineId> retired = retiredTimelinesOf(p);
        Set<TimelineId> timelines = new HashSet<>(retired);
        p.branches().values().forEach(b -> timelines.add(b.timeline()));
        for (TimelineId id : timelines) {
            BranchInfo.Usage usage = usage(id);
            if (usage == null) {
                known = false;
            } else {
                layerBytes += usage.ownBytes();
                pending += usage.pendingBytes();
            }
        }
        return new ProjectInfo(p.name(), p.createdAt(), p.retention(), p.branches().size(), layerBytes, pending,
                retired.size(), known);
    }

    /**
     * Sets the project's retention window ({@link Retention} forms: 7d, 12h, 30m, 0s). A shorter
     * window takes effect at the next garbage collection; history already given up does not come
     * back with a longer one.
     */
    public ProjectInfo setRetention(String project, String retention) {
        Duration window = Retention.parse(retention);
        try {
            catalog.update(s -> {
                Project p = s.project(project).orElseThrow(() -> notFoundProject(project));
                return p.retention().equals(window) ? s : s.withProject(p.withRetention(window));
            });
        } catch (IOException e) {
            throw internal("updating project '" + project + "'", e);
        }
        LOG.log(System.Logger.Level.INFO, "project {0}: retention window set to {1}", project, Retention.format(window));
        return projectInfo(project);
    }

    /**
     * The retired timelines that {@code p}'s branches still read through: those on an ancestor
     * chain of one of its branch timelines.
     */
    Set<TimelineId> retiredTimelinesOf(Project p) {
        Set<TimelineId> retired = catalog.state().retiredTimelines();
        Set<TimelineId> out = new HashSet<>();
        if (retired.isEmpty()) {
            return out;
        }
        for (Branch b : p.branches().values()) {
            TimelineId id = b.timeline();
            while (true) {
                Optional<Ancestor> ancestor;
                try {
                    ancestor = store.ancestor(id);
                } catch (RuntimeException e) {
                    break; // deleted meanwhile
                }
                if (ancestor.isEmpty()) {
                    break;
                }
                id = ancestor.get().timeline();
                if (retired.contains(id)) {
                    out.add(id);
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Reads

    public List<BranchInfo> list(String project) {
        Project p = project(project);
        List<BranchInfo> out = new ArrayList<>();
        for (Branch branch : p.branches().values()) {
            out.add(info(p.name(), branch, true));
        }
        return out;
    }

    public BranchInfo show(String project, String name) {
        return info(project, branch(project, parseName(name)), true);
    }

    /**
     * The answer of an operation that changed a branch: as {@link #show} without the disk usage
     * (null), which reads the layer indexes of the whole ancestry for a new timeline (about 25 ms
     * for a 1 GB parent) and would make branch creation grow with the parent's size.
     */
    private BranchInfo updated(String project, String name) {
        return info(project, branch(project, parseName(name)), false);
    }

    /**
     * The branch's connection strings through the proxy: its stable port, and the routing port
     * with {@code options=branch=<name>} (percent-encoded, as libpq and pgjdbc decode it).
     */
    public ConnectionInfo connection(String project, String name) {
        Branch branch = branch(project, parseName(name));
        String password;
        try {
            password = secrets.password(project);
        } catch (IOException e) {
            throw internal("reading the password of project '" + project + "'", e);
        }
        String prefix = "postgresql://" + SUPERUSER + ":" + password + "@" + HOST + ":";
        String uri = prefix + branch.port() + "/" + DATABASE;
        String routingName = new RoutingName(project, branch.name()).toString();
        int routingPort = endpoints.routingPort();
        String routingUri = routingPort == 0 ? null : prefix + routingPort + "/" + DATABASE + "?options="
                + URLEncoder.encode("branch=" + routingName, StandardCharsets.UTF_8);
        return new ConnectionInfo(routingName, HOST, branch.port(), SUPERUSER, password, DATABASE, uri, routingPort,
                routingUri);
    }

    /** Whether the branch exists; false for names that cannot be branch names. Never throws. */
    public boolean exists(String project, String name) {
        try {
            return catalog.state().project(project).flatMap(p -> p.branch(BranchName.of(name))).isPresent();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Lifecycle

    /**
     * Creates {@code name} as a child of {@code parentName}, at the parent's head (after a
     * CHECKPOINT of the parent's running compute, so the child starts without long recovery) or
     * at {@code at} (an LSN or a time in the parent's history).
     */
    public BranchInfo create(String project, String name, String parentName, String at) {
        return create(project, name, parentName, at, null);
    }

    /**
     * As {@link #create(String, String, String, String)}, with an expiry time (ISO-8601, in the
     * future; {@code null} for none) after which the server deletes the branch.
     */
    public BranchInfo create(String project, String name, String parentName, String at, String expiresAt) {
        BranchName child = parseName(name);
        Instant expiry = parseExpiry(expiresAt);
        if (parentName == null || parentName.isBlank()) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "a new branch needs a parent (e.g. --parent development)");
        }
        BranchName parentBranch = parseName(parentName);
        PointInTime point = at == null || at.isBlank() ? null : PointInTime.parse(at);
        project(project);
        ReentrantLock lock = lock(project, parentBranch);
        try {
            Branch parent = branch(project, parentBranch);
            if (catalog.state().project(project).orElseThrow().branch(child).isPresent()) {
                throw exists(project, child);
            }
            long lsn;
            TimelineId timeline;
            if (point == null) {
                Fork fork = forkAtHead(project, parent);
                lsn = fork.lsn();
                timeline = fork.timeline();
            } else {
                lsn = resolve(project(project), parent, point);
                timeline = createTimeline(parent.timeline(), lsn);
            }
            Instant now = Instant.now();
            try {
                catalog.update(s -> {
                    Project p = s.project(project).orElseThrow(() -> notFoundProject(project));
                    if (p.branch(child).isPresent()) {
                        throw exists(project, child);
                    }
                    if (p.branch(parentBranch).isEmpty()) {
                        throw notFound(project, parentBranch);
                    }
                    CatalogState.PortAllocation port = s.allocatePort(portAvailable);
                    Branch branch = new Branch(child, parentBranch, timeline, now, lsn, false, port.port(), expiry);
                    return port.state().withProject(p.withBranch(branch));
                });
            } catch (RuntimeException e) {
                // Refused before anything was written: the timeline is nobody's.
                discardTimeline(timeline);
                throw e;
            }
            // An IOException of the catalog write propagates without deleting the timeline: the
            // rename may have happened, and the next start deletes it if no branch points at it.
            LOG.log(System.Logger.Level.INFO, "created branch {0}/{1} from {2} at {3}", project, child,
                    parentBranch, Lsn.format(lsn));
            openPort(project, branch(project, child));
            return updated(project, child.value());
        } catch (IOException e) {
            throw internal("creating branch '" + child + "'", e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Deletes a branch: refused if it is protected or has children; stops its compute, removes
     * it from the catalog and deletes its timeline (later, if another timeline still branches
     * from it).
     */
    public void delete(String project, String name) {
        BranchName branchName = parseName(name);
        ReentrantLock lock = lock(project, branchName);
        try {
            Branch branch = branch(project, branchName);
            checkDeletable(project, catalog.state().project(project).orElseThrow(), branch);
            stop(project, branchName);
            catalog.update(s -> {
                Project p = s.project(project).orElseThrow(() -> notFoundProject(project));
                Branch current = p.branch(branchName).orElseThrow(() -> notFound(project, branchName));
                checkDeletable(project, p, current);
                return s.withProject(p.withoutBranch(branchName)).withRetired(current.timeline());
            });
            // Sessions still open on the port ended with the compute; new ones are refused from here.
            endpoints.closeBranchPort(new RoutingName(project, branchName).toString());
            lastStart.remove(computeKey(project, branchName));
            LOG.log(System.Logger.Level.INFO, "deleted branch {0}/{1}", project, branchName);
        } catch (IOException e) {
            throw internal("deleting branch '" + branchName + "'", e);
        } finally {
            lock.unlock();
        }
        collectGarbage();
    }

    /**
     * Resets a branch to its parent's current state: a new timeline at the parent's head, the
     * branch repointed (same name, port, children), the old timeline retired, and the compute
     * restarted if it was running: clients of the old compute are disconnected, the next
     * connection on the same port and connection string sees the new state. Local changes are
     * lost: refused on a protected branch.
     */
    public BranchInfo reset(String project, String name) {
        BranchName branchName = parseName(name);
        ReentrantLock lock = lock(project, branchName);
        try {
            Branch branch = branch(project, branchName);
            // Protection first: it is the rule a user set, and the answer they expect to see.
            checkUnprotected(branch, "reset");
            if (branch.isRoot()) {
                throw new BranchException(ErrorCode.BAD_REQUEST, "branch '" + branchName
                        + "' is the root branch: it has no parent to reset from");
            }
            ReentrantLock parentLock = lock(project, branch.parent());
            long lsn;
            TimelineId timeline;
            try {
                // One above the old head: even the old head LSN then names only the old state.
                long floor = store.timeline(branch.timeline()).lastLsn() + 1;
                Fork fork = forkAtHead(project, branch(project, branch.parent()), floor);
                lsn = fork.lsn();
                timeline = fork.timeline();
            } finally {
                parentLock.unlock();
            }
            replaceTimeline(project, branch, timeline, lsn, true);
            LOG.log(System.Logger.Level.INFO, "reset branch {0}/{1} to {2} at {3}", project, branchName,
                    branch.parent(), Lsn.format(lsn));
            return updated(project, branchName.value());
        } catch (IOException e) {
            throw internal("resetting branch '" + branchName + "'", e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The head of {@code name}'s parent, for a rebase: its running compute checkpointed first
     * (so a timeline taken there starts without long crash recovery), its timeline synced.
     */
    public Ancestor parentHead(String project, String name) {
        Branch branch = branch(project, parseName(name));
        if (branch.isRoot()) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "branch '" + branch.name()
                    + "' is the root branch: it has no parent to rebase onto");
        }
        ReentrantLock parentLock = lock(project, branch.parent());
        try {
            Branch parent = branch(project, branch.parent());
            return new Ancestor(parent.timeline(), headAfterCheckpoint(project, parent));
        } catch (IOException e) {
            throw internal("reading the head of '" + branch.parent() + "'", e);
        } finally {
            parentLock.unlock();
        }
    }

    /**
     * Completes a rebase: points {@code name} at {@code timeline} (taken from its parent at
     * {@code parentLsn}, with the branch's changes replayed on it) and keeps the replaced state as
     * a backup branch, as restore does. Same port and connection string; the compute restarts if
     * it ran. Refused on a protected branch or when the branch no longer points at
     * {@code expected} (reset, restored or rebased meanwhile). {@code timeline} is this method's
     * from the call on: deleted when refused or failed.
     *
     * @return the backup branch's name
     */
    public String rebase(String project, String name, TimelineId expected, TimelineId timeline, long parentLsn) {
        BranchName branchName = parseName(name);
        ReentrantLock lock = lock(project, branchName);
        try {
            Branch branch;
            try {
                branch = branch(project, branchName);
                checkUnprotected(branch, "rebased");
                if (!branch.timeline().equals(expected)) {
                    throw new BranchException(ErrorCode.CONFLICT, "branch '" + branchName
                            + "' was reset, restored or rebased while the rebase ran; nothing was changed, run it again");
                }
            } catch (BranchException e) {
                discardTimeline(timeline);
                throw e;
            }
            BranchName kept = replaceTimeline(project, branch, timeline, parentLsn, false, true);
            LOG.log(System.Logger.Level.INFO, "rebased branch {0}/{1} onto {2} at {3}; the previous state is branch {4}",
                    project, branchName, branch.parent(), Lsn.format(parentLsn), kept);
            return kept.value();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Restores a branch to an earlier point of its own history ({@code at}: LSN or time): a new
     * timeline branched from the branch's current one at that point replaces it. Refused on a
     * protected branch.
     */
    public BranchInfo restore(String project, String name, String at) {
        return restore(project, name, at, true);
    }

    /**
     * As {@link #restore(String, String, String)}; with {@code backup} the state before the
     * restore is kept as a new branch {@code <name>_old_<UTC yyyyMMdd'T'HHmmss'Z'>} (same
     * parent, not protected) pointing at the pre-restore timeline, so nothing is lost by a
     * restore to the wrong point; without it that state is given up.
     */
    public BranchInfo restore(String project, String name, String at, boolean backup) {
        BranchName branchName = parseName(name);
        PointInTime point = PointInTime.parse(at);
        ReentrantLock lock = lock(project, branchName);
        try {
            Branch branch = branch(project, branchName);
            checkUnprotected(branch, "restored");
            long lsn = resolve(project(project), branch, point);
            // Above the old head: the LSNs the replaced state used are never reused on this branch.
            TimelineId timeline = createTimeline(branch.timeline(), lsn, store.timeline(branch.timeline()).lastLsn() + 1);
            BranchName kept = replaceTimeline(project, branch, timeline, branch.parentLsn(), false, backup);
            LOG.log(System.Logger.Level.INFO, "restored branch {0}/{1} to {2}{3}", project, branchName, Lsn.format(lsn),
                    kept == null ? " (no backup)" : "; the previous state is branch " + kept);
            return updated(project, branchName.value());
        } catch (IOException e) {
            throw internal("restoring branch '" + branchName + "'", e);
        } finally {
            lock.unlock();
        }
    }

    public BranchInfo setProtected(String project, String name, boolean value) {
        BranchName branchName = parseName(name);
        ReentrantLock lock = lock(project, branchName);
        try {
            catalog.update(s -> {
                Project p = s.project(project).orElseThrow(() -> notFoundProject(project));
                Branch branch = p.branch(branchName).orElseThrow(() -> notFound(project, branchName));
                return branch.protectedBranch() == value ? s : s.withProject(p.withBranch(branch.withProtected(value)));
            });
            return updated(project, branchName.value());
        } catch (IOException e) {
            throw internal("updating branch '" + branchName + "'", e);
        } finally {
            lock.unlock();
        }
    }

    /** Sets ({@code expiresAt} ISO-8601, in the future) or clears ({@code null}) the branch's expiry. */
    public BranchInfo setExpiry(String project, String name, String expiresAt) {
        BranchName branchName = parseName(name);
        Instant expiry = parseExpiry(expiresAt);
        ReentrantLock lock = lock(project, branchName);
        try {
            catalog.update(s -> {
                Project p = s.project(project).orElseThrow(() -> notFoundProject(project));
                Branch branch = p.branch(branchName).orElseThrow(() -> notFound(project, branchName));
                return s.withProject(p.withBranch(branch.withExpiresAt(expiry)));
            });
            return updated(project, branchName.value());
        } catch (IOException e) {
            throw internal("updating branch '" + branchName + "'", e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Deletes every branch whose expiry time has come by {@code now}. A branch that is protected
     * or has children is kept (and reported in the log) until that changes; children expire
     * first when both have expired, since they are tried first.
     *
     * @return the branches deleted, as {@code project/name}
     */
    public List<String> expire(Instant now) {
        List<String> deleted = new ArrayList<>();
        boolean progress = true;
        Set<String> refused = new HashSet<>();
        while (progress) {
            progress = false;
            for (Project p : catalog.state().projects().values()) {
                for (Branch branch : p.branches().values()) {
                    String id = p.name() + "/" + branch.name();
                    if (!branch.expiredAt(now) || refused.contains(id)) {
                        continue;
                    }
                    try {
                        delete(p.name(), branch.name().value());
                        deleted.add(id);
                        LOG.log(System.Logger.Level.INFO, "branch {0} expired at {1} and was deleted", id, branch.expiresAt());
                        progress = true;
                    } catch (BranchException e) {
                        if (e.code() == ErrorCode.HAS_CHILDREN) {
                            // Tried again in the next pass of this round if an expired child goes first.
                            continue;
                        }
                        refused.add(id);
                        if (e.code() != ErrorCode.NOT_FOUND && expiryWarnings.add(id)) {
                            LOG.log(System.Logger.Level.WARNING, "branch {0} expired but is kept: {1}", id, e.getMessage());
                        }
                    }
                }
            }
        }
        return deleted;
    }

    /**
     * Starts the branch's compute (no-op if running); returns once it accepts connections. Not
     * needed before connecting (the proxy wakes a suspended compute), only to have it warm.
     */
    public BranchInfo startCompute(String project, String name) {
        BranchName branchName = parseName(name);
        ReentrantLock lock = lock(project, branchName);
        try {
            Branch branch = branch(project, branchName);
            start(project, branch);
            return updated(project, branchName.value());
        } finally {
            lock.unlock();
        }
    }

    /**
     * For the proxy: starts the branch's compute unless it runs, and returns the internal address
     * it listens on once it accepts connections.
     *
     * @throws BranchException {@link ErrorCode#NOT_FOUND} if the branch does not exist,
     *     {@link ErrorCode#COMPUTE_FAILED} with the compute's reason if it cannot start
     */
    public InetSocketAddress wake(String project, String name) {
        BranchName branchName = parseName(name);
        ReentrantLock lock = lock(project, branchName);
        try {
            Compute compute = start(project, branch(project, branchName));
            return new InetSocketAddress(HOST, compute.port());
        } finally {
            lock.unlock();
        }
    }

    /**
     * For the proxy, after the idle timeout: stops the branch's compute. No-op if it is stopped
     * or the branch was deleted meanwhile.
     */
    public void suspend(String project, String name) {
        if (exists(project, name)) {
            try {
                stopCompute(project, name);
            } catch (BranchException e) {
                if (e.code() != ErrorCode.NOT_FOUND) {
                    throw e;
                }
            }
        }
    }

    /** Stops the branch's compute (fast shutdown) and unmounts it; no-op if stopped. */
    public BranchInfo stopCompute(String project, String name) {
        BranchName branchName = parseName(name);
        ReentrantLock lock = lock(project, branchName);
        try {
            branch(project, branchName);
            stop(project, branchName);
            return updated(project, branchName.value());
        } finally {
            lock.unlock();
        }
    }

    /**
     * For {@link IdleComputes}: stops the branch's compute if it is still running and has not
     * been started or woken since {@code idleSince} ({@link System#nanoTime()}). No-op otherwise,
     * or if the branch is gone.
     */
    void suspendIdle(String project, BranchName name, long idleSince, Duration idleTimeout) {
        String key = computeKey(project, name);
        ReentrantLock lock = lock(project, name);
        try {
            Long started = lastStart.get(key);
            if (started != null && started - idleSince > 0) {
                return;
            }
            boolean exists = catalog.state().project(project).flatMap(p -> p.branch(name)).isPresent();
            if (!exists || computes.running(key).isEmpty()) {
                return;
            }
            stop(project, name);
            idleStops.increment();
            LOG.log(System.Logger.Level.INFO, "stopped the compute of branch {0}/{1}: no client connection for {2}; "
                    + "the next connection starts it again", project, name, idleTimeout);
        } finally {
            lock.unlock();
        }
    }

    /** Computes {@link #suspendIdle} stopped, for metrics. */
    public long idleStops() {
        return idleStops.sum();
    }

    /**
     * A running compute: its branch, internal port, and the branch's stable port (a session the
     * kernel handed to the compute keeps the port the client dialled as its local port).
     */
    record RunningCompute(String project, BranchName branch, String key, int port, int branchPort) {
    }

    /** Every running compute of every branch. */
    List<RunningCompute> runningComputeList() {
        List<RunningCompute> out = new ArrayList<>();
        for (Project p : catalog.state().projects().values()) {
            for (Branch b : p.branches().values()) {
                String key = computeKey(p.name(), b.name());
                computes.running(key).ifPresent(c -> out.add(new RunningCompute(p.name(), b.name(), key, c.port(), b.port())));
            }
        }
        return out;
    }

    /** Number of branches in all projects, for metrics. */
    public int branchCount() {
        return catalog.state().projects().values().stream().mapToInt(p -> p.branches().size()).sum();
    }

    /** Number of running computes, for metrics. */
    public int runningComputes() {
        int running = 0;
        for (Project p : catalog.state().projects().values()) {
            for (Branch b : p.branches().values()) {
                if (computes.running(computeKey(p.name(), b.name())).isPresent()) {
                    running++;
                }
            }
        }
        return running;
    }

    /**
     * Deletes retired timelines that no other timeline descends from any more, repeatedly (a
     * deleted child can free its ancestor). Only timelines the catalog itself retired are
     * candidates: a timeline the catalog does not know is quarantined at start, never deleted
     * here.
     */
    public void collectGarbage() {
        try {
            synchronized (this) {
                CatalogState state = catalog.state();
                Set<TimelineId> live = state.liveTimelines();
                Set<TimelineId> candidates = new HashSet<>(state.retiredTimelines());
                boolean progress = true;
                while (progress) {
                    progress = false;
                    Set<TimelineId> existing = store.timelines();
                    Set<TimelineId> ancestors = new HashSet<>();
                    for (TimelineId id : existing) {
                        store.ancestor(id).map(Ancestor::timeline).ifPresent(ancestors::add);
                    }
                    for (TimelineId candidate : List.copyOf(candidates)) {
                        if (!existing.contains(candidate)) {
                            candidates.remove(candidate);
                        } else if (!ancestors.contains(candidate) && !live.contains(candidate)) {
                            store.deleteTimeline(candidate);
                            candidates.remove(candidate);
                            LOG.log(System.Logger.Level.INFO, "deleted unreferenced timeline {0}", candidate);
                            progress = true;
                        }
                    }
                }
                Set<TimelineId> remaining = store.timelines();
                catalog.update(s -> {
                    CatalogState next = s;
                    for (TimelineId id : s.retiredTimelines()) {
                        if (!remaining.contains(id)) {
                            next = next.withoutRetired(id);
                        }
                    }
                    return next;
                });
            }
        } catch (IOException | RuntimeException e) {
            // Garbage stays on disk and is retried at the next delete or start: not fatal.
            LOG.log(System.Logger.Level.WARNING, "deleting retired timelines failed (retried later): " + e, e);
        }
    }

    /**
     * Gives the quarantined {@code timeline} a branch {@code name} of {@code project}, taking it
     * out of quarantine in the same catalog write. The parent is {@code parentName}, or the
     * nearest branch whose timeline is on {@code timeline}'s ancestor chain; its parent LSN is
     * where that chain leaves the parent's timeline (0 when the named parent is not on it).
     */
    BranchInfo adopt(String project, String name, TimelineId timeline, String parentName) {
        BranchName child = parseName(name);
        Project p = project(project);
        BranchName parent = parentName == null || parentName.isBlank() ? null : parseName(parentName);
        long parentLsn = 0;
        TimelineId id = timeline;
        while (true) {
            Optional<Ancestor> ancestor = store.ancestor(id);
            if (ancestor.isEmpty()) {
                break;
            }
            id = ancestor.get().timeline();
            TimelineId step = id;
            Optional<Branch> owner = p.branches().values().stream().filter(b -> b.timeline().equals(step)).findFirst();
            if (owner.isPresent() && (parent == null || parent.equals(owner.get().name()))) {
                parent = owner.get().name();
                parentLsn = ancestor.get().lsn();
                break;
            }
        }
        if (parent == null) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "timeline " + timeline + " descends from no branch of "
                    + "project '" + project + "': name the parent to list it under (--parent BRANCH)");
        }
        BranchName parentBranch = parent;
        long lsn = parentLsn;
        Instant now = Instant.now();
        try {
            catalog.update(s -> {
                if (!s.quarantinedTimelines().contains(timeline)) {
                    throw new BranchException(ErrorCode.NOT_FOUND, "timeline " + timeline + " is not in quarantine");
                }
                Project current = s.project(project).orElseThrow(() -> notFoundProject(project));
                if (current.branch(child).isPresent()) {
                    throw exists(project, child);
                }
                if (current.branch(parentBranch).isEmpty()) {
                    throw notFound(project, parentBranch);
                }
                CatalogState.PortAllocation port = s.withoutQuarantined(timeline).allocatePort(portAvailable);
                Branch branch = new Branch(child, parentBranch, timeline, now, lsn, false, port.port());
                return port.state().withProject(current.withBranch(branch));
            });
        } catch (IOException e) {
            throw internal("adopting timeline " + timeline, e);
        }
        LOG.log(System.Logger.Level.INFO, "adopted quarantined timeline {0} as branch {1}/{2} (parent {3})", timeline,
                project, child, parentBranch);
        openPort(project, branch(project, child));
        return updated(project, child.value());
    }

    // ------------------------------------------------------------------------------------------
    // Internals

    /** Attempts to start a compute when the free port picked is taken before Postgres binds it. */
    private static final int PORT_ATTEMPTS = 3;

    /** Opens the branch's stable port on the endpoints; a failure is logged, not thrown. */
    private void openPort(String project, Branch branch) {
        String routingName = new RoutingName(project, branch.name()).toString();
        try {
            endpoints.openBranchPort(routingName, branch.port());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "branch {0}: its port {1,number,#} cannot be opened ({2}); it is "
                    + "reachable through the routing port with options=branch={0} until the port is free and the "
                    + "server restarts", routingName, branch.port(), e.getMessage());
        }
    }

    /**
     * Returns the branch's running compute, or starts one on a free internal port. Caller holds
     * the branch's lock.
     */
    private Compute start(String project, Branch branch) {
        String quarantine = store.quarantined().get(branch.timeline());
        if (quarantine != null) {
            throw new BranchException(ErrorCode.QUARANTINED, "branch '" + branch.name() + "' is quarantined by the store: "
                    + quarantine + ". Nothing was deleted; see 'pgbranch store verify' and the README's repair steps");
        }
        String key = computeKey(project, branch.name());
        lastStart.put(key, System.nanoTime());
        Optional<Compute> running = computes.running(key);
        if (running.isPresent() && running.get().timeline().equals(branch.timeline())) {
            return running.get();
        }
        for (int attempt = 1; ; attempt++) {
            try {
                Compute started = computes.start(key, branch.timeline(), freeInternalPort());
                lastStart.put(key, System.nanoTime());
                endpoints.computeStarted(new RoutingName(project, branch.name()).toString(), started.pid(), started.port());
                return started;
            } catch (ComputeException e) {
                // The port was free when picked; another process may bind it before Postgres does.
                String message = String.valueOf(e.getMessage());
                if (attempt < PORT_ATTEMPTS && message.contains("already in use")) {
                    LOG.log(System.Logger.Level.INFO, "compute {0}: port taken before start, picking another", key);
                    continue;
                }
                throw new BranchException(ErrorCode.COMPUTE_FAILED, "the compute of branch '" + branch.name()
                        + "' did not start: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Stops the branch's compute (no-op if stopped), after sending new connections of its port
     * back to the proxy. Caller holds the branch's lock.
     */
    private void stop(String project, BranchName name) {
        String key = computeKey(project, name);
        if (computes.running(key).isPresent()) {
            endpoints.computeStopping(new RoutingName(project, name).toString());
        }
        computes.stop(key);
    }

    /** A loopback port nothing listens on right now, from the kernel's ephemeral range. */
    private static int freeInternalPort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw internal("finding a free port for a compute", e);
        }
    }

    /** Checkpoints the branch's running compute (if any) and returns its timeline's head LSN. */
    private long headAfterCheckpoint(String project, Branch branch) throws IOException {
        String key = computeKey(project, branch.name());
        if (computes.running(key).isPresent()) {
            checkpoint(key);
        }
        Timeline timeline = store.timeline(branch.timeline());
        timeline.sync();
        return timeline.lastLsn();
    }

    private void checkpoint(String key) {
        try {
            computes.checkpoint(key);
        } catch (RuntimeException e) {
            // Still correct without it (the child runs crash recovery), only slower to start.
            LOG.log(System.Logger.Level.WARNING, "CHECKPOINT of compute {0} failed, the new branch will run "
                    + "crash recovery: {1}", key, e.getMessage());
        }
    }

    /**
     * The LSN of {@code point} in {@code branch}'s timeline, checked against its history and
     * against what is still restorable: the project's retention window and the timeline's GC
     * horizon. A refusal names the window and the oldest restorable time and LSN.
     */
    private long resolve(Project project, Branch branch, PointInTime point) {
        Timeline timeline = store.timeline(branch.timeline());
        // LSNs only grow along a branch: after a reset or restore its new timeline starts above
        // the old head, and every LSN below that names the state before, which it no longer has.
        long start = timeline.lsnFloor();
        boolean replaced = start > timeline.ancestor().map(Ancestor::lsn).orElse(0L);
        Instant now = Instant.now();
        BranchInfo.RestorableFrom oldest = restorableFrom(project, timeline, now);
        long lsn;
        if (point.isLsn()) {
            long head = timeline.lastLsn();
            if (Long.compareUnsigned(point.lsn(), head) > 0) {
                throw new BranchException(ErrorCode.BAD_REQUEST, "LSN " + point + " is ahead of branch '"
                        + branch.name() + "' (its head is " + Lsn.format(head) + ")");
            }
            if (Long.compareUnsigned(point.lsn(), start) < 0) {
                throw new BranchException(ErrorCode.BAD_REQUEST, "LSN " + point + " is before the history of branch '"
                        + branch.name() + "', which starts at " + Lsn.format(start)
                        + (replaced ? " (lower LSNs name its state before its last reset or restore)" : ""));
            }
            lsn = point.lsn();
        } else {
            if (point.time().isAfter(now)) {
                throw new BranchException(ErrorCode.BAD_REQUEST, "time " + point + " is in the future");
            }
            if (point.time().isBefore(now.minus(project.retention()))) {
                throw outsideWindow(project, branch, "time " + point, oldest);
            }
            OptionalLong found = timeline.lsnAt(point.time());
            if (found.isEmpty() || found.getAsLong() < start) {
                String first = timeline.firstMarkAtOrAbove(start).map(m -> "it starts at " + m.time())
                        .orElse("no recorded time yet");
                throw new BranchException(ErrorCode.BAD_REQUEST, "branch '" + branch.name()
                        + "' has no history at or before " + point + " (" + first + ")");
            }
            lsn = found.getAsLong();
        }
        if (Long.compareUnsigned(lsn, Lsn.parse(oldest.lsn())) < 0) {
            String what = (point.isLsn() ? "LSN " : "time " + point + " (LSN ") + Lsn.format(lsn) + (point.isLsn() ? "" : ")");
            if (lsn < timeline.gcHorizon()) {
                // Inside today's window, but a shorter window earlier let the garbage collector go past it.
                throw new BranchException(ErrorCode.BAD_REQUEST, what + " is no longer restorable: the history of branch '"
                        + branch.name() + "' before LSN " + Lsn.format(timeline.gcHorizon()) + " was garbage-collected "
                        + "(retention window of project '" + project.name() + "': " + Retention.format(project.retention())
                        + "); the oldest restorable point of branch '" + branch.name() + "' is " + describe(oldest));
            }
            throw outsideWindow(project, branch, what, oldest);
        }
        return lsn;
    }

    private static BranchException outsideWindow(Project project, Branch branch, String what,
                                                 BranchInfo.RestorableFrom oldest) {
        return new BranchException(ErrorCode.BAD_REQUEST, what + " is outside the retention window of project '"
                + project.name() + "' (" + Retention.format(project.retention()) + "): the oldest restorable point of "
                + "branch '" + branch.name() + "' is " + describe(oldest));
    }

    private static String describe(BranchInfo.RestorableFrom oldest) {
        return (oldest.time() == null ? "" : oldest.time() + ", ") + "LSN " + oldest.lsn();
    }

    /**
     * The oldest point of {@code timeline}'s own history that is restorable at {@code now}: not
     * below its start, its GC horizon, or the newest mark at or before {@code now - retention}
     * (the state at the window's start). Its time is the window's start, or the time of the
     * first mark at or above that LSN when history begins later.
     */
    static BranchInfo.RestorableFrom restorableFrom(Project project, Timeline timeline, Instant now) {
        long floor = Math.max(timeline.lsnFloor(), timeline.gcHorizon());
        Instant windowStart = now.minus(project.retention());
        OptionalLong windowLsn = timeline.lsnAt(windowStart);
        if (windowLsn.isPresent() && windowLsn.getAsLong() >= floor) {
            return new BranchInfo.RestorableFrom(Lsn.format(windowLsn.getAsLong()), windowStart);
        }
        // History starts after the window's start (or GC went further): the first mark at or above it.
        Instant time = timeline.firstMarkAtOrAbove(floor).map(m -> max(m.time(), windowStart)).orElse(null);
        return new BranchInfo.RestorableFrom(Lsn.format(floor), time);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    /** The timeline's disk usage, or {@code null} if the store cannot report it now. */
    BranchInfo.Usage usage(TimelineId id) {
        try {
            TimelineUsage u = store.usage(id);
            return new BranchInfo.Usage(u.ownBytes(), u.exclusiveBytes(), u.sharedBytes(), u.pendingBytes());
        } catch (IOException | RuntimeException e) {
            if (usageWarned.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.WARNING, "disk usage of timeline {0} is unavailable (reported once): {1}",
                        id, e.toString());
            }
            return null;
        }
    }

    /** A new timeline and the ancestor LSN it was taken at. */
    private record Fork(TimelineId timeline, long lsn) {
    }

    /** A new timeline at the head of {@code parent}, after a CHECKPOINT of its running compute. */
    private Fork forkAtHead(String project, Branch parent) throws IOException {
        return forkAtHead(project, parent, 0);
    }

    /** As {@link #forkAtHead(String, Branch)}, the new timeline's own LSNs above {@code lsnFloor}. */
    private Fork forkAtHead(String project, Branch parent, long lsnFloor) throws IOException {
        long lsn = headAfterCheckpoint(project, parent);
        try {
            return new Fork(store.createBranch(parent.timeline(), lsn, lsnFloor), lsn);
        } catch (IllegalArgumentException raced) {
            // The garbage collector raised the parent's horizon past the head read above (a
            // window of seconds while its compute writes): the head now is as good a head.
            long head = store.timeline(parent.timeline()).lastLsn();
            return new Fork(createTimeline(parent.timeline(), head, lsnFloor), head);
        }
    }

    private TimelineId createTimeline(TimelineId ancestor, long lsn) throws IOException {
        return createTimeline(ancestor, lsn, 0);
    }

    private TimelineId createTimeline(TimelineId ancestor, long lsn, long lsnFloor) throws IOException {
        try {
            return store.createBranch(ancestor, lsn, lsnFloor);
        } catch (IllegalArgumentException e) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "cannot branch at " + Lsn.format(lsn) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Points {@code branch} at {@code timeline}: stops its compute, records the swap and the
     * old timeline as retired in one catalog write, deletes what can be deleted and restarts
     * the compute if it was running.
     */
    private void replaceTimeline(String project, Branch branch, TimelineId timeline, long parentLsn, boolean reset) {
        replaceTimeline(project, branch, timeline, parentLsn, reset, false);
    }

    /**
     * As above; with {@code backup} the old timeline is not retired but given to a new branch
     * {@code <name>_old_<timestamp>} (same parent, not protected) in the same catalog write.
     *
     * @return the backup branch's name, {@code null} without backup
     */
    private BranchName replaceTimeline(String project, Branch branch, TimelineId timeline, long parentLsn,
                                       boolean reset, boolean backup) {
        String key = computeKey(project, branch.name());
        boolean wasRunning = computes.running(key).isPresent();
        stop(project, branch.name());
        BranchName[] kept = new BranchName[1];
        try {
            Instant now = Instant.now();
            catalog.update(s -> {
                Project p = s.project(project).orElseThrow(() -> notFoundProject(project));
                Branch current = p.branch(branch.name()).orElseThrow(() -> notFound(project, branch.name()));
                Project next = p.withBranch(current.withTimeline(timeline, parentLsn));
                if (!backup) {
                    return s.withProject(next).withRetired(current.timeline());
                }
                BranchName name = BackupName.of(current.name(), now, n -> p.branch(n).isPresent());
                CatalogState.PortAllocation port = s.allocatePort(portAvailable);
                kept[0] = name;
                return port.state().withProject(next.withBranch(new Branch(name, current.parent(), current.timeline(),
                        now, current.parentLsn(), false, port.port())));
            });
        } catch (RuntimeException e) {
            discardTimeline(timeline);
            if (wasRunning) {
                startQuietly(project, branch);
            }
            throw e;
        } catch (IOException e) {
            // Whether the catalog file holds the old or the new timeline is unknown (the rename may
            // have happened): delete neither; the next start deletes the one no branch points at.
            throw internal((reset ? "resetting" : "restoring") + " branch '" + branch.name() + "'", e);
        }
        if (kept[0] != null) {
            openPort(project, branch(project, kept[0]));
        }
        collectGarbage();
        if (wasRunning) {
            start(project, branch.withTimeline(timeline, parentLsn));
        }
        return kept[0];
    }

    private void startQuietly(String project, Branch branch) {
        try {
            start(project, branch);
        } catch (BranchException e) {
            LOG.log(System.Logger.Level.WARNING, "restarting the compute of {0} failed: {1}", branch.name(), e.getMessage());
        }
    }

    private void discardTimeline(TimelineId timeline) {
        try {
            store.deleteTimeline(timeline);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete unused timeline {0} (deleted at next start): {1}",
                    timeline, e.toString());
        }
    }

    private BranchInfo info(String project, Branch branch, boolean withUsage) {
        Optional<Compute> compute = computes.running(computeKey(project, branch.name()));
        String head;
        try {
            head = Lsn.format(store.timeline(branch.timeline()).lastLsn());
        } catch (RuntimeException e) {
            head = null;
        }
        BranchInfo.RestorableFrom restorable;
        try {
            restorable = restorableFrom(project(project), store.timeline(branch.timeline()), Instant.now());
        } catch (RuntimeException e) {
            restorable = null;
        }
        return new BranchInfo(project, branch.name().value(), branch.parent() == null ? null : branch.parent().value(),
                branch.timeline().toString(), branch.createdAt(),
                branch.isRoot() ? null : Lsn.format(branch.parentLsn()), head, branch.protectedBranch(),
                branch.port(), computeState(branch, compute.isPresent()), compute.map(Compute::pid).orElse(0L),
                branch.expiresAt(), restorable, withUsage ? usage(branch.timeline()) : null);
    }

    /** "running", "suspended", or "quarantined" when the store holds the branch's timeline back. */
    private String computeState(Branch branch, boolean running) {
        if (store.quarantined().containsKey(branch.timeline())) {
            return "quarantined";
        }
        return running ? "running" : "suspended";
    }

    /** @param action the past participle the message needs: "deleted", "reset", "restored" */
    private static void checkUnprotected(Branch branch, String action) {
        if (branch.protectedBranch()) {
            throw new BranchException(ErrorCode.PROTECTED, "branch '" + branch.name() + "' is protected and cannot be "
                    + action + "; run 'pgbranch branch unprotect " + branch.name() + "' first if you really mean it");
        }
    }

    private static void checkDeletable(String project, Project p, Branch branch) {
        checkUnprotected(branch, "deleted");
        List<Branch> children = p.children(branch.name());
        if (!children.isEmpty()) {
            throw new BranchException(ErrorCode.HAS_CHILDREN, "branch '" + branch.name() + "' of project '" + project
                    + "' has child branches (" + String.join(", ", children.stream().map(c -> c.name().value()).toList())
                    + "); delete them first");
        }
    }

    private Project project(String project) {
        return catalog.state().project(project).orElseThrow(() -> notFoundProject(project));
    }

    private Branch branch(String project, BranchName name) {
        return project(project).branch(name).orElseThrow(() -> notFound(project, name));
    }

    private ReentrantLock lock(String project, BranchName name) {
        ReentrantLock lock = locks.computeIfAbsent(project + "\0" + name.value(), k -> new ReentrantLock());
        lock.lock();
        return lock;
    }

    /** {@code null} stays null; otherwise an ISO-8601 time with offset, in the future. */
    private static Instant parseExpiry(String text) {
        if (text == null) {
            return null;
        }
        Instant expiry;
        try {
            expiry = java.time.OffsetDateTime.parse(text.strip()).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "cannot read expiry '" + text
                    + "' as an ISO-8601 time with offset like 2026-11-20T10:00:00Z");
        }
        if (!expiry.isAfter(Instant.now())) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "expiry " + expiry + " is not in the future");
        }
        return expiry;
    }

    static BranchName parseName(String name) {
        try {
            return BranchName.of(name);
        } catch (IllegalArgumentException e) {
            throw new BranchException(ErrorCode.BAD_REQUEST, e.getMessage(), e);
        }
    }

    private static BranchException notFound(String project, BranchName name) {
        return new BranchException(ErrorCode.NOT_FOUND, "branch '" + name + "' does not exist in project '" + project + "'");
    }

    private static BranchException notFoundProject(String project) {
        return new BranchException(ErrorCode.NOT_FOUND, "project '" + project + "' does not exist");
    }

    private static BranchException exists(String project, BranchName name) {
        return new BranchException(ErrorCode.CONFLICT, "branch '" + name + "' already exists in project '" + project + "'");
    }

    private static BranchException internal(String what, IOException e) {
        LOG.log(System.Logger.Level.ERROR, what + " failed", e);
        return new BranchException(ErrorCode.INTERNAL, what + " failed: " + e.getMessage(), new UncheckedIOException(e));
    }

    /**
     * For read-only time travel (the proxy's {@code branch@point}): the branch's current timeline
     * and the LSN that {@code at} (an LSN or an ISO-8601 time) names in it, checked as for
     * {@code branch create --at}: not ahead of its head, not before its own timeline starts,
     * inside the retention window and above the GC horizon. Throws {@link ErrorCode#NOT_FOUND}
     * for an unknown branch, {@link ErrorCode#BAD_REQUEST} for any other refusal.
     */
    public Ancestor resolvePoint(String project, String name, String at) {
        Branch branch = branch(project, parseName(name));
        return new Ancestor(branch.timeline(), resolve(project(project), branch, PointInTime.parse(at)));
    }
}
