package dev.pgbranch.pageserver.compute;

import dev.pgbranch.pageserver.fuse.FuseMount;
import dev.pgbranch.pageserver.fuse.FuseRequests;
import dev.pgbranch.pageserver.fuse.MountOptions;
import dev.pgbranch.storage.NoSuchTimelineException;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Starts, watches and stops computes: one Postgres postmaster per key, each on its own FUSE mount
 * of a timeline (see {@link RunLayout} for where everything lives).
 *
 * <p>Start: mount the timeline, run {@code postgres -D <mount> -p <port>} as the
 * {@link ComputeUser} with {@code listen_addresses=127.0.0.1} and the Unix socket and log outside
 * the mount, record its pid ({@link PidRecord}), and return once {@code pg_isready} says it
 * accepts connections. A branch taken from a running parent starts with crash recovery, so the
 * deadline is generous ({@link #startTimeout}).
 *
 * <p>Health: the postmaster is a child of this JVM, so an unexpected exit is noticed at once
 * ({@link Process#onExit()}): the compute is logged as dead, its mount is unmounted, and
 * {@link #running} no longer reports it. It is not restarted automatically; the next
 * {@link #start} for the key starts it again (with crash recovery), which is what the proxy's
 * wake-on-connect does.
 *
 * <p>Crash behaviour: if the server dies, its postmasters lose their filesystem (the FUSE
 * connection dies with the JVM); {@link #cleanupOrphans()} at the next start kills them by their
 * recorded pid (never by name) and removes the dead mounts.
 *
 * <p>Thread-safety: all methods are thread-safe; operations on one key are serialized, different
 * keys proceed in parallel.
 */
public final class ComputeManager implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ComputeManager.class.getName());

    private static final String SUPERUSER = "postgres";
    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    private static final int LOG_TAIL_LINES = 15;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PageStore store;
    private final RunLayout layout;
    private final PostgresInstallation postgres;
    private final ComputeUser user;
    private final Map<String, Running> computes = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final ExecutorService reaper = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("compute-reaper-", 0).factory());
    private volatile Duration startTimeout = Duration.ofMinutes(5);
    private final FuseRequests fuseRequests = new FuseRequests();
    /** The compute user's copies of the server certificate and key, or null: computes without TLS. */
    private volatile TlsCopy tls;

    /** Where the compute user's certificate and key copies are. */
    private record TlsCopy(Path certificate, Path key) {
    }
    private volatile boolean closed;

    /** A compute this manager started and has not stopped. */
    private static final class Running {
        final Compute compute;
        final Process process;
        final FuseMount mount;
        volatile boolean stopping;

        Running(Compute compute, Process process, FuseMount mount) {
            this.compute = compute;
            this.process = process;
            this.mount = mount;
        }
    }

    public ComputeManager(PageStore store, Path runDirectory, PostgresInstallation pg, ComputeUser user) {
        this.store = store;
        this.layout = new RunLayout(runDirectory);
        this.postgres = pg;
        this.user = user;
        try {
            layout.create(user.switchesUser());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare run directory " + runDirectory, e);
        }
    }

    /** How long {@link #start} waits for a compute to accept connections (crash recovery included). */
    public void startTimeout(Duration timeout) {
        this.startTimeout = timeout;
    }

    /**
     * Computes started from now on serve TLS themselves ({@code ssl=on}) with this PEM certificate
     * chain and key: clients whose branch port the kernel hands to a compute see the same
     * certificate as through the proxy. The files are copied for the compute user (the key 0600,
     * as Postgres demands) into the run directory.
     */
    public void serveTls(Path certificate, Path key) throws ComputeException {
        try {
            Path directory = layout.root().resolve("tls");
            Files.createDirectories(directory);
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
            user.own(directory);
            Path cert = directory.resolve("server.crt");
            Path privateKey = directory.resolve("server.key");
            for (Path[] copy : new Path[][] {{certificate, cert}, {key, privateKey}}) {
                Files.copy(copy[0], copy[1], java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(copy[1], PosixFilePermissions.fromString("rw-------"));
                user.own(copy[1]);
            }
            tls = new TlsCopy(cert, privateKey);
        } catch (IOException e) {
            throw new ComputeException("cannot give the computes the TLS certificate: " + e.getMessage(), e);
        }
    }

    /** FUSE requests answered by every mount of this manager since it started. */
    public FuseRequests fuseRequests() {
        return fuseRequests;
    }

    public PostgresInstallation postgres() {
        return postgres;
    }

    public ComputeUser user() {
        return user;
    }

    // ------------------------------------------------------------------------------ initdb

    /**
     * Runs {@code initdb} on the empty root timeline through FUSE: superuser {@code postgres} with
     * {@code superuserPassword} (SCRAM over TCP, peer over the Unix socket), UTF-8, C.UTF-8 locale.
     * The password goes through a 0600 file that is deleted afterwards and is never logged.
     */
    public void initializeCluster(TimelineId rootTimeline, String superuserPassword) throws ComputeException {
        if (superuserPassword == null || superuserPassword.isEmpty() || superuserPassword.contains("\n")) {
            throw new ComputeException("the superuser password must be non-empty and on one line");
        }
        String key = "initdb-" + rootTimeline;
        ReentrantLock lock = lock(key);
        try {
            Timeline timeline = timeline(rootTimeline);
            checkRunDirectoryReachable();
            Path mountpoint = layout.mountpoint(key);
            byte[] suffix = new byte[8];
            RANDOM.nextBytes(suffix);
            Path passwordFile = layout.tmp().resolve("pw-" + HexFormat.of().formatHex(suffix));
            try (FuseMount mount = mount(timeline, mountpoint)) {
                if (Files.exists(mountpoint.resolve("PG_VERSION"))) {
                    throw new ComputeException("timeline " + rootTimeline + " already holds a database cluster");
                }
                writePasswordFile(passwordFile, superuserPassword);
                List<String> command = List.of(postgres.tool("initdb").toString(), "-D", mount.mountpoint().toString(),
                        "-U", SUPERUSER, "--auth-host=scram-sha-256", "--auth-local=peer",
                        "--pwfile=" + passwordFile, "-E", "UTF8", "--locale=C.UTF-8",
                        // initdb's own sync phase would fsync file by file; one Timeline.sync() below
                        // makes the same bytes durable at once.
                        "--no-sync");
                long begin = System.nanoTime();
                ProcessRunner.Result result = ProcessRunner.run(user, command, INITDB_TIMEOUT);
                if (!result.succeeded()) {
                    throw new ComputeException("initdb failed: " + ProcessRunner.tail(result.output(), LOG_TAIL_LINES));
                }
                configure(mount.mountpoint());
                timeline.sync();
                LOG.log(Level.INFO, "initialized a PostgreSQL " + postgres.majorVersion() + " cluster on timeline "
                        + rootTimeline + " in " + (System.nanoTime() - begin) / 1_000_000 + " ms");
            } finally {
                Files.deleteIfExists(passwordFile);
                deleteMountpoint(mountpoint);
            }
        } catch (IOException e) {
            throw new ComputeException("initializing the cluster failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    private void writePasswordFile(Path file, String password) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, password + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        user.own(file);
    }

    /**
     * Settings every compute of the cluster shares, appended to {@code postgresql.conf}; what
     * differs per compute (port, socket directory) is given on the command line instead.
     */
    private void configure(Path dataDirectory) throws IOException {
        String settings = """

                # --- pgbranch ---------------------------------------------------------------
                # Computes run on FUSE data directories whose kernel cache writes 4 KB pages:
                # an 8 KB Postgres page can be torn on a crash, so full_page_writes must stay on.
                full_page_writes = on
                fsync = on
                # Computes are reached through 127.0.0.1 only (the proxy or the branch port).
                listen_addresses = '127.0.0.1'
                unix_socket_permissions = 0700
                # The log goes to a file outside the data directory (stderr of the postmaster).
                logging_collector = off
                log_line_prefix = '%m [%p] %q%u@%d '
                """;
        Files.writeString(dataDirectory.resolve("postgresql.conf"), settings, StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        if (!user.name().equals(SUPERUSER)) {
            // The OS user is not called postgres, so plain peer authentication would refuse it as
            // the superuser: map it (and every OS user to the same-named role, as before).
            Files.writeString(dataDirectory.resolve("pg_ident.conf"), "\npgbranch  " + user.name() + "  " + SUPERUSER
                    + "\npgbranch  /^(.*)$  \\1\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            Path hba = dataDirectory.resolve("pg_hba.conf");
            List<String> lines = new ArrayList<>();
            for (String line : Files.readAllLines(hba)) {
                lines.add(line.startsWith("local") && line.strip().endsWith("peer") ? line + " map=pgbranch" : line);
            }
            Files.write(hba, lines, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        }
    }

    // ------------------------------------------------------------------------------ start

    /**
     * Starts the compute {@code key} on {@code timeline}, listening on 127.0.0.1:{@code port}, and
     * returns once it accepts connections. Idempotent: if it already runs with the same timeline and
     * port, returns it; a compute that died is started again.
     *
     * @throws ComputeException with the reason (e.g. the tail of the Postgres log) if it cannot
     *     start; nothing is left mounted or running then
     */
    public Compute start(String key, TimelineId timeline, int port) throws ComputeException {
        layout.validate(key, port);
        ReentrantLock lock = lock(key);
        try {
            if (closed) {
                throw new ComputeException("the compute manager is shut down");
            }
            Running existing = computes.get(key);
            if (existing != null) {
                if (alive(existing.process) && !existing.stopping) {
                    Compute compute = existing.compute;
                    if (compute.timeline().equals(timeline) && compute.port() == port) {
                        return compute;
                    }
                    throw new ComputeException("compute " + key + " already runs timeline " + compute.timeline()
                            + " on port " + compute.port() + "; stop it first");
                }
                reap(key, existing); // died: clean up, then start afresh
            }
            Running running = launch(key, timeline(timeline), port);
            computes.put(key, running);
            running.process.onExit().thenRunAsync(() -> onExit(key, running), reaper);
            return running.compute;
        } finally {
            lock.unlock();
        }
    }

    private Running launch(String key, Timeline timeline, int port) throws ComputeException {
        checkRunDirectoryReachable();
        checkPortFree(port);
        Path mountpoint = layout.mountpoint(key);
        Path socketDirectory = layout.socketDirectory(key);
        Path logFile = layout.logFile(key);
        FuseMount mount = null;
        Process process = null;
        try {
            prepareSocketDirectory(socketDirectory);
            mount = mount(timeline, mountpoint);
            if (!Files.exists(mountpoint.resolve("PG_VERSION"))) {
                throw new ComputeException("timeline " + timeline.id() + " holds no database cluster (PG_VERSION missing)");
            }
            appendMarker(logFile, "starting compute " + key + " (timeline " + timeline.id() + ", port " + port + ")");
            List<String> command = new ArrayList<>(List.of(postgres.tool("postgres").toString(), "-D", mountpoint.toString(),
                    "-p", Integer.toString(port), "-c", "listen_addresses=127.0.0.1",
                    "-c", "unix_socket_directories=" + socketDirectory));
            TlsCopy certificate = tls;
            if (certificate != null) {
                command.addAll(List.of("-c", "ssl=on", "-c", "ssl_cert_file=" + certificate.certificate(),
                        "-c", "ssl_key_file=" + certificate.key()));
            }
            ProcessBuilder builder = new ProcessBuilder(user.command(command))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            user.configure(builder);
            process = builder.start();
            Instant started = process.info().startInstant().orElse(Instant.EPOCH);
            new PidRecord(key, process.pid(), started, mountpoint).write(layout.pidRecord(key));
            awaitReady(key, process, socketDirectory, port, logFile);
            LOG.log(Level.INFO, "compute " + key + " running: pid " + process.pid() + ", port " + port + ", timeline "
                    + timeline.id());
            return new Running(new Compute(key, timeline.id(), port, process.pid(), mountpoint), process, mount);
        } catch (ComputeException | IOException | RuntimeException e) {
            if (process != null) {
                kill(process);
            }
            closeMount(mount);
            deleteQuietly(layout.pidRecord(key));
            if (e instanceof ComputeException ce) {
                throw ce;
            }
            throw new ComputeException("compute " + key + " did not start: " + e.getMessage(), e);
        }
    }

    private void awaitReady(String key, Process process, Path socketDirectory, int port, Path logFile)
            throws ComputeException, IOException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        List<String> isReady = List.of(postgres.tool("pg_isready").toString(), "-q", "-h", socketDirectory.toString(),
                "-p", Integer.toString(port), "-d", "postgres", "-U", SUPERUSER, "-t", "2");
        while (true) {
            if (!process.isAlive()) {
                throw new ComputeException("compute " + key + " exited during startup (code " + process.exitValue()
                        + "): " + logTail(logFile));
            }
            // 0 = accepting; 1 = rejecting (still starting or in recovery); 2 = no answer yet.
            // As the compute user over the socket: peer authentication lets the probe in cleanly
            // instead of leaving an authentication FATAL in the log at every start.
            ProcessRunner.Result result = ProcessRunner.run(user, isReady, Duration.ofSeconds(10));
            if (result.succeeded()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new ComputeException("compute " + key + " did not accept connections within "
                        + startTimeout.toSeconds() + " s: " + logTail(logFile));
            }
            sleep(100);
        }
    }

    // ------------------------------------------------------------------------------ stop / checkpoint

    /**
     * Stops the compute ({@code pg_ctl stop -m fast}: clients are disconnected, a shutdown
     * checkpoint is written), then unmounts its data directory. No-op if it is not running.
     */
    public void stop(String key) {
        ReentrantLock lock = lock(key);
        try {
            Running running = computes.remove(key);
            if (running == null) {
                return;
            }
            running.stopping = true;
            shutdown(key, running);
        } finally {
            lock.unlock();
        }
    }

    private void shutdown(String key, Running running) {
        Process process = running.process;
        if (process.isAlive()) {
            List<String> command = List.of(postgres.tool("pg_ctl").toString(), "stop", "-D",
                    running.compute.dataDirectory().toString(), "-m", "fast", "-w", "-t",
                    Long.toString(STOP_TIMEOUT.toSeconds()));
            try {
                ProcessRunner.Result result = ProcessRunner.run(user, command, STOP_TIMEOUT.plusSeconds(10));
                if (!result.succeeded() && process.isAlive()) {
                    LOG.log(Level.WARNING, "pg_ctl stop of compute " + key + " failed, killing pid " + process.pid()
                            + ": " + ProcessRunner.tail(result.output(), 5));
                }
            } catch (IOException e) {
                LOG.log(Level.WARNING, "pg_ctl stop of compute " + key + " failed, killing it", e);
            }
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    kill(process);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill(process);
            }
        }
        closeMount(running.mount);
        deleteQuietly(layout.pidRecord(key));
        deleteMountpoint(running.mount.mountpoint());
        LOG.log(Level.INFO, "compute " + key + " stopped");
    }

    /**
     * Runs {@code CHECKPOINT} on the running compute (as the superuser, over its Unix socket), so
     * that its timeline's head holds every page: a branch taken right after starts without
     * crash recovery.
     *
     * @throws IllegalStateException if the compute is not running or the checkpoint failed
     */
    public void checkpoint(String key) {
        Running running = computes.get(key);
        if (running == null || !running.process.isAlive()) {
            throw new IllegalStateException("compute " + key + " is not running");
        }
        Compute compute = running.compute;
        List<String> command = List.of(postgres.tool("psql").toString(), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", layout.socketDirectory(key).toString(), "-p", Integer.toString(compute.port()),
                "-U", SUPERUSER, "-d", "postgres", "-c", "CHECKPOINT");
        try {
            ProcessRunner.Result result = ProcessRunner.run(user, command, COMMAND_TIMEOUT);
            if (!result.succeeded()) {
                throw new IllegalStateException("CHECKPOINT on compute " + key + " failed: "
                        + ProcessRunner.tail(result.output(), 5));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run psql for compute " + key, e);
        }
    }

    /** The compute for {@code key} if it is running (a compute that died is not). */
    public Optional<Compute> running(String key) {
        Running running = computes.get(key);
        if (running == null || running.stopping || !alive(running.process)) {
            return Optional.empty();
        }
        return Optional.of(running.compute);
    }

    /** Every running compute. */
    public List<Compute> runningComputes() {
        List<Compute> result = new ArrayList<>();
        for (String key : computes.keySet()) {
            running(key).ifPresent(result::add);
        }
        return result;
    }

    // ------------------------------------------------------------------------------ health

    /**
     * Whether the postmaster still runs. {@link Process#isAlive} stays true from its death until
     * the JVM's reaper has collected it; a postmaster killed by a signal is a zombie (state Z in
     * {@code /proc/<pid>/stat}) in that window and its port already refuses connections, so a
     * client waking it then must get a new compute, not the dead one's address.
     */
    private static boolean alive(Process process) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2); // "pid (comm) S ..."; comm may hold ')'
            return state != 'Z' && state != 'X';
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // reaped meanwhile
        } catch (IOException | RuntimeException e) {
            return process.isAlive();
        }
    }

    private void onExit(String key, Running running) {
        if (running.stopping) {
            return;
        }
        ReentrantLock lock = lock(key);
        try {
            if (computes.get(key) != running || running.stopping) {
                return; // already stopped or replaced
            }
            LOG.log(Level.ERROR, "compute " + key + " (pid " + running.process.pid() + ") exited unexpectedly with code "
                    + running.process.exitValue() + "; it starts again on the next start request. Log:\n"
                    + logTail(layout.logFile(key)));
            reap(key, running);
        } finally {
            lock.unlock();
        }
    }

    /** Cleans up after a compute whose postmaster is gone. Caller holds the key's lock. */
    private void reap(String key, Running running) {
        running.stopping = true;
        computes.remove(key, running);
        kill(running.process); // backends outlive a killed postmaster for a moment
        closeMount(running.mount);
        deleteQuietly(layout.pidRecord(key));
        deleteMountpoint(running.mount.mountpoint());
    }

    /**
     * Kills the computes a crashed server left behind (by the pids it recorded, and only if those
     * processes are still the ones it started) and unmounts their dead mounts. Call once at
     * server start, before starting computes.
     */
    public void cleanupOrphans() {
        try (var records = Files.list(layout.pids())) {
            for (Path file : records.filter(p -> p.toString().endsWith(".pid")).toList()) {
                Optional<PidRecord> record = PidRecord.read(file);
                if (record.isEmpty()) {
                    LOG.log(Level.WARNING, "ignoring malformed pid record " + file);
                } else if (computes.containsKey(record.get().key())) {
                    continue; // ours, alive
                } else {
                    PidRecord orphan = record.get();
                    ProcessHandle.of(orphan.pid()).filter(orphan::describes).ifPresent(process -> {
                        LOG.log(Level.WARNING, "killing orphaned compute " + orphan.key() + " (pid " + orphan.pid()
                                + ") left by a previous server");
                        process.descendants().forEach(ProcessHandle::destroyForcibly);
                        process.destroyForcibly();
                        try {
                            process.onExit().get(30, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            LOG.log(Level.WARNING, "orphan pid " + orphan.pid() + " did not exit", e);
                        }
                    });
                }
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            LOG.log(Level.ERROR, "cannot read pid records in " + layout.pids(), e);
        }
        try (var mounts = Files.list(layout.mounts())) {
            for (Path mountpoint : mounts.toList()) {
                boolean ours = computes.values().stream().anyMatch(r -> r.mount.mountpoint().equals(mountpoint));
                if (ours) {
                    continue;
                }
                try {
                    if (FuseMount.isMountPoint(mountpoint)) {
                        LOG.log(Level.WARNING, "unmounting stale mount " + mountpoint);
                        FuseMount.unmountStale(mountpoint);
                    }
                    deleteMountpoint(mountpoint);
                } catch (IOException e) {
                    LOG.log(Level.ERROR, "cannot unmount stale mount " + mountpoint, e);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.ERROR, "cannot list mounts in " + layout.mounts(), e);
        }
        if (computes.isEmpty()) { // else a running compute's spill files would go
            try {
                FuseMount.deleteSpillLeftovers(layout.root());
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot delete spill files left in " + layout.root() + ": " + e);
            }
        }
    }

    /** Stops every compute. Idempotent. */
    @Override
    public void close() {
        closed = true;
        for (String key : List.copyOf(computes.keySet())) {
            try {
                stop(key);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "stopping compute " + key + " failed", e);
            }
        }
        reaper.shutdown();
    }

    // ------------------------------------------------------------------------------ helpers

    private ReentrantLock lock(String key) {
        ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock());
        lock.lock();
        return lock;
    }

    private Timeline timeline(TimelineId id) throws ComputeException {
        try {
            return store.timeline(id);
        } catch (NoSuchTimelineException e) {
            throw new ComputeException("no such timeline: " + id, e);
        }
    }

    private FuseMount mount(Timeline timeline, Path mountpoint) throws IOException {
        if (FuseMount.isMountPoint(mountpoint)) {
            FuseMount.unmountStale(mountpoint); // left by a crash; its compute is gone
        }
        if (!Files.exists(mountpoint)) {
            Files.createDirectory(mountpoint, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        return FuseMount.mount(timeline, mountpoint,
                MountOptions.ownedBy(user.uid(), user.gid()).withCapacityFrom(layout.root()), fuseRequests);
    }

    private void prepareSocketDirectory(Path directory) throws IOException {
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        user.own(directory);
    }

    private void checkRunDirectoryReachable() throws ComputeException {
        if (!user.switchesUser()) {
            return;
        }
        // The compute user must be able to traverse every ancestor of the run directory.
        for (Path p = layout.root(); p != null; p = p.getParent()) {
            try {
                var permissions = Files.getPosixFilePermissions(p);
                if (!permissions.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    int owner = (Integer) Files.getAttribute(p, "unix:uid");
                    if (owner != user.uid()) {
                        throw new ComputeException("the compute user " + user.name() + " cannot reach " + layout.root()
                                + ": " + p + " is not traversable by others (chmod o+x " + p + ")");
                    }
                }
            } catch (IOException e) {
                throw new ComputeException("cannot check permissions of " + p + ": " + e.getMessage(), e);
            }
        }
    }

    private static void checkPortFree(int port) throws ComputeException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new ComputeException("port " + port + " on 127.0.0.1 is already in use");
        }
    }

    private static void appendMarker(Path logFile, String message) throws IOException {
        if (!Files.exists(logFile)) { // 0600 before the first byte, whatever the umask
            Files.createFile(logFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(logFile, "----- " + Instant.now() + " pgbranch: " + message + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** The last lines of the compute's log, for error messages. */
    static String logTail(Path logFile) {
        try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
            long length = file.length();
            int size = (int) Math.min(length, 8192);
            byte[] bytes = new byte[size];
            file.seek(length - size);
            file.readFully(bytes);
            return ProcessRunner.tail(new String(bytes, StandardCharsets.UTF_8), LOG_TAIL_LINES);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeMount(FuseMount mount) {
        if (mount == null) {
            return;
        }
        try {
            mount.close();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "unmounting " + mount.mountpoint() + " failed", e);
        }
    }

    private static void deleteMountpoint(Path mountpoint) {
        try {
            if (!FuseMount.isMountPoint(mountpoint)) {
                Files.deleteIfExists(mountpoint);
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, () -> "leaving mount point directory " + mountpoint + ": " + e.getMessage());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot delete " + file, e);
        }
    }

    private static void sleep(long millis) throws ComputeException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ComputeException("interrupted while waiting for the compute");
        }
    }
}
