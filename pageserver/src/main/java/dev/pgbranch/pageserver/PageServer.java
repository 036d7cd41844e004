package dev.pgbranch.pageserver;

import dev.pgbranch.pageserver.api.ApiServer;
import dev.pgbranch.pageserver.api.ApiToken;
import dev.pgbranch.pageserver.api.SchemaRoutes;
import dev.pgbranch.pageserver.api.StoreRoutes;
import dev.pgbranch.pageserver.api.ServerInfo;
import dev.pgbranch.pageserver.branch.BranchReaper;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.GarbageCollector;
import dev.pgbranch.pageserver.branch.IdleComputes;
import dev.pgbranch.pageserver.branch.ProjectSecrets;
import dev.pgbranch.pageserver.branch.Quarantine;
import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.pageserver.catalog.DurableFiles;
import dev.pgbranch.pageserver.catalog.Project;
import dev.pgbranch.pageserver.compute.ComputeException;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.pageserver.compute.ComputeUser;
import dev.pgbranch.pageserver.compute.PostgresInstallation;
import dev.pgbranch.pageserver.console.Console;
import dev.pgbranch.pageserver.review.DataReview;
import dev.pgbranch.pageserver.review.SchemaReview;
import dev.pgbranch.pageserver.timetravel.TimeTravel;
import dev.pgbranch.proxy.PgProxy;
import dev.pgbranch.proxy.ProxyConfig;
import dev.pgbranch.proxy.SelfSignedCertificate;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * One pgbranch server over one data directory: storage engine, computes, catalog, branch
 * service, wire proxy and management API, started in that order and closed in reverse.
 *
 * <pre>
 * &lt;data-dir&gt;/            0700, or 0711 when computes run as another user (they must reach run/);
 *                         every file 0600, every directory 0700 ({@link DataDirectoryPermissions},
 *                         checked and tightened at start)
 *   lock                  held (flock) by the running server: one server per directory
 *   catalog.json          projects and branches ({@code CatalogFile} describes the format)
 *   catalog.generation    the highest catalog generation written here (tells an older copy)
 *   store/                the storage engine's files
 *   run/                  computes: FUSE mount points, sockets, logs, pid records
 *   secrets/              0700; &lt;project&gt;.password, 0600
 *   api-token             0600, the API's bearer token
 *   server.json           API address, proxy routing port and pid while the server runs
 * </pre>
 *
 * <p>Clients reach branches only through the in-process wire proxy: each branch's stable port
 * (opened for every branch at start) and the routing port. A compute listens on a loopback port
 * chosen at each start; the proxy starts it on a client's first connection and stops it after
 * {@link Config#idleTimeout} without clients.
 *
 * <p>Start order and crash behaviour: the lock is taken first; the catalog is checked against
 * the store before either is written ({@link CatalogGuard}); orphaned computes and stale
 * mounts of a crashed predecessor are cleaned up; timelines the catalog does not know (left by a
 * crash between a storage change and its catalog record, or newer than a catalog put back from a
 * backup) are quarantined, never deleted ({@link Quarantine}); the default project is created
 * on first start. Computes are not restarted: they come back on demand ({@code compute start}
 * or the proxy's wake on a client's first connection). {@code server.json} is written last, so a client that
 * finds it finds a server ready to serve.
 *
 * <p>Thread-safety: {@link #start} and {@link #close} are called from one thread; the parts
 * serve requests concurrently.
 */
public final class PageServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PageServer.class.getName());

    /** Ports handed to branches start here unless {@code --branch-port-base} says otherwise. */
    public static final int DEFAULT_BRANCH_PORT_BASE = 55432;

    /** The proxy's routing port unless {@code --proxy-port} says otherwise (PgBouncer's customary port). */
    public static final int DEFAULT_PROXY_PORT = 6432;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    /** Generous: a compute of a branch taken from a busy parent starts with crash recovery. */
    public static final Duration DEFAULT_WAKE_TIMEOUT = Duration.ofSeconds(60);
    /** How often the garbage collector gives up history older than each project's retention window. */
    public static final Duration DEFAULT_GC_INTERVAL = Duration.ofMinutes(10);

    /**
     * @param apiPort 0 for any free port (written to {@code server.json})
     * @param branchPortBase {@code null} keeps the base recorded in the catalog (or the default)
     * @param proxyPort the proxy's routing port, 0 for any free port (written to {@code server.json})
     * @param idleTimeout a compute without client connections for this long is stopped
     * @param wakeTimeout a client waiting longer for its compute to start gets FATAL 57P03
     * @param tlsCertificate PEM certificate chain the proxy and the computes present, or null for a
     *     self-signed one generated at the first start into {@code tls/} of the data directory
     * @param tlsPrivateKey PEM PKCS#8 key of {@code tlsCertificate}, or null
     * @param gcInterval time between two garbage collection rounds
     * @param acceptOlderCatalog start with a {@code catalog.json} that is missing or older than the
     *     store (the operator's {@code --accept-older-catalog}); the timelines it does not list are
     *     quarantined. Without it such a start is refused ({@link CatalogGuard})
     */
    public record Config(Path dataDirectory, int apiPort, Integer branchPortBase, int proxyPort, Duration idleTimeout,
                         Duration wakeTimeout, Path tlsCertificate, Path tlsPrivateKey, Duration gcInterval,
                         boolean acceptOlderCatalog) {

        /** Refuses a missing or older catalog. */
        public Config(Path dataDirectory, int apiPort, Integer branchPortBase, int proxyPort, Duration idleTimeout,
                      Duration wakeTimeout, Path tlsCertificate, Path tlsPrivateKey, Duration gcInterval) {
            this(dataDirectory, apiPort, branchPortBase, proxyPort, idleTimeout, wakeTimeout, tlsCertificate,
                    tlsPrivateKey, gcInterval, false);
        }

        /** Free API and routing ports, default timeouts, self-signed TLS. */
        public Config(Path dataDirectory, int apiPort, Integer branchPortBase) {
            this(dataDirectory, apiPort, branchPortBase, 0, DEFAULT_IDLE_TIMEOUT, DEFAULT_WAKE_TIMEOUT, null, null);
        }

        /** The default garbage collection interval. */
        public Config(Path dataDirectory, int apiPort, Integer branchPortBase, int proxyPort, Duration idleTimeout,
                      Duration wakeTimeout, Path tlsCertificate, Path tlsPrivateKey) {
            this(dataDirectory, apiPort, branchPortBase, proxyPort, idleTimeout, wakeTimeout, tlsCertificate,
                    tlsPrivateKey, DEFAULT_GC_INTERVAL);
        }

        public Config withIdleTimeout(Duration timeout) {
            return new Config(dataDirectory, apiPort, branchPortBase, proxyPort, timeout, wakeTimeout, tlsCertificate,
                    tlsPrivateKey, gcInterval, acceptOlderCatalog);
        }

        public Config withAcceptOlderCatalog(boolean accept) {
            return new Config(dataDirectory, apiPort, branchPortBase, proxyPort, idleTimeout, wakeTimeout,
                    tlsCertificate, tlsPrivateKey, gcInterval, accept);
        }

        /** The proxy's settings, presenting {@code tls} (the configured certificate or the generated one). */
        ProxyConfig proxyConfig(TlsFiles tls) {
            return ProxyConfig.defaults(proxyPort).withIdleTimeout(idleTimeout).withWakeDeadline(wakeTimeout)
                    .withTls(tls.certificate(), tls.key());
        }

        /**
         * The certificate and key the proxy and the computes present: the configured ones, or a
         * self-signed pair generated at the first start into {@code tls/} of the data directory.
         */
        TlsFiles tlsFiles(Path dataDirectory) throws IOException {
            if (tlsCertificate != null) {
                return new TlsFiles(tlsCertificate, tlsPrivateKey);
            }
            Path directory = dataDirectory.resolve("tls");
            Path cert = directory.resolve("server.crt");
            Path key = directory.resolve("server.key");
            if (!Files.exists(cert) || !Files.exists(key)) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Files.deleteIfExists(cert);
                Files.deleteIfExists(key);
                SelfSignedCertificate.write(cert, key, "pgbranch");
            }
            return new TlsFiles(cert, key);
        }
    }

    /** PEM certificate chain and PKCS#8 key, presented by the proxy and by every compute. */
    record TlsFiles(Path certificate, Path key) {
    }

    private final Path dataDirectory;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private BranchService branches;
    private ApiServer api;
    private ApiToken token;
    private PgProxy proxy;
    private boolean closed;

    private PageServer(Path dataDirectory) {
        this.dataDirectory = dataDirectory;
    }

    /** Starts a server; on failure everything started so far is closed again. */
    public static PageServer start(Config config) throws IOException {
        PageServer server = new PageServer(config.dataDirectory().toAbsolutePath().normalize());
        try {
            server.open(config);
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void open(Config config) throws IOException {
        long started = System.nanoTime();
        ComputeUser user;
        try {
            user = ComputeUser.detect();
        } catch (ComputeException e) {
            throw new IOException(e.getMessage(), e);
        }
        // Explicit modes, whatever the umask: 0700 (0711 on the compute user's way), files 0600.
        Set<PosixFilePermission> directoryMode = DataDirectoryPermissions.directoryMode(user.switchesUser());
        Files.createDirectories(dataDirectory, PosixFilePermissions.asFileAttribute(directoryMode));
        Files.setPosixFilePermissions(dataDirectory, directoryMode); // the umask took bits of the 0711
        lock();
        DataDirectoryPermissions.enforce(dataDirectory, user.switchesUser());
        Path storeDirectory = dataDirectory.resolve("store");
        if (!Files.exists(storeDirectory)) {
            Files.createDirectory(storeDirectory);
            Files.setPosixFilePermissions(storeDirectory, PosixFilePermissions.fromString("rwx------"));
        }

        // Decided before the store is opened and before anything is written: a missing, corrupt or
        // older catalog next to a store that holds data refuses the start and leaves every byte.
        int base = config.branchPortBase() == null ? DEFAULT_BRANCH_PORT_BASE : config.branchPortBase();
        Catalog catalog = CatalogGuard.open(dataDirectory.resolve("catalog.json"), storeDirectory, base,
                config.acceptOlderCatalog());
        if (config.branchPortBase() != null) {
            catalog.update(s -> s.withPortBase(base));
        }

        PageStore store = PageStore.open(storeDirectory, StoreOptions.defaults());
        resources.push(store);

        TlsFiles tls = config.tlsFiles(dataDirectory);
        ComputeManager computes;
        try {
            computes = new ComputeManager(store, dataDirectory.resolve("run"), PostgresInstallation.detect(), user);
            computes.serveTls(tls.certificate(), tls.key());
        } catch (ComputeException e) {
            throw new IOException(e.getMessage(), e);
        }
        resources.push(computes::close);
        computes.cleanupOrphans();

        branches = new BranchService(catalog, store, computes, new ProjectSecrets(dataDirectory.resolve("secrets")),
                BranchService::portIsFree);
        // Before anything creates a timeline of its own: throwaway computes' timelines (none runs
        // now) are retired, what the catalog does not know is kept.
        catalog.update(s -> s.withTemporaryRetired());
        Quarantine quarantine = new Quarantine(catalog, store, branches);
        quarantine.admitUnknown();
        branches.collectGarbage();
        PageStore throwaway = new TemporaryTimelines(store, catalog);
        if (!branches.projectExists(Project.DEFAULT)) {
            LOG.log(System.Logger.Level.INFO, "first start: creating project ''{0}'' (initdb)", Project.DEFAULT);
            branches.createProject(Project.DEFAULT, user.uid(), user.gid());
        }

        BranchReaper reaper = new BranchReaper(branches);
        resources.push(reaper);
        reaper.start(5);
        GarbageCollector gc = new GarbageCollector(catalog, store, branches);
        resources.push(gc);
        gc.start(config.gcInterval());

        // After the computes (closed after it: a closing proxy leaves computes as they are) and
        // before the API, so every branch's port is open before anyone can ask for its URI.
        BranchDirectory directory = new BranchDirectory(branches, config.proxyConfig(tls),
                new TimeTravel(branches, throwaway, computes, TimeTravel.DEFAULT_MAX_COMPUTES, config.idleTimeout()));
        resources.push(directory); // closed after the proxy: removes the time-travel computes and timelines
        proxy = directory.proxy();
        try {
            proxy.start();
        } catch (IOException e) {
            boolean portTaken = String.valueOf(e.getMessage()).startsWith("cannot listen");
            throw new IOException("the wire proxy cannot start: " + e.getMessage()
                    + (portTaken ? "; choose another --proxy-port, or 0 for any free port" : ""), e);
        }
        resources.push(proxy);
        branches.serveClients(directory);
        // Computes the proxy did not wake (compute start, connect --start) are stopped when idle too.
        IdleComputes idle = new IdleComputes(branches, config.idleTimeout());
        resources.push(idle);
        idle.start();

        token = ApiToken.loadOrCreate(dataDirectory.resolve(ApiToken.FILE_NAME));
        api = new ApiServer(branches, token, config.apiPort(), store::stats,
                () -> computes.fuseRequests().render() + proxy.metrics());
        SchemaReview review = new SchemaReview(branches, catalog, throwaway, computes);
        api.schemaRoutes(new SchemaRoutes(review, new DataReview(review, branches, throwaway, computes)));
        api.garbageCollector(gc);
        api.console(new Console(branches, token, Console.DEFAULT_SESSION_TTL, InstantSource.system(),
                e -> ApiServer.status(e.code())));
        api.storeRoutes(new StoreRoutes(quarantine, store));
        resources.push(api);
        api.start();

        long pid = ProcessHandle.current().pid();
        new ServerInfo("http://127.0.0.1:" + api.port(), api.port(), proxy.routingPort(), pid, Instant.now().toString(),
                dataDirectory.toString()).write(dataDirectory);
        resources.push(() -> ServerInfo.delete(dataDirectory, pid));
        LOG.log(System.Logger.Level.INFO, "pgbranch server ready in {0} ms: API http://127.0.0.1:{1,number,#}, "
                        + "proxy routing port {2,number,#}, data {3}",
                (System.nanoTime() - started) / 1_000_000, api.port(), proxy.routingPort(), dataDirectory);
    }

    /** Takes the data directory's lock: a second server on the same directory fails clearly. */
    private void lock() throws IOException {
        Path file = dataDirectory.resolve("lock");
        FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(DurableFiles.OWNER_ONLY));
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by another server in this same JVM
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("another pgbranch server is running on data directory " + dataDirectory);
        }
        resources.push(channel);
        resources.push(lock);
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    public int apiPort() {
        return api.port();
    }

    /** The proxy's routing port (clients name the branch in the connection). */
    public int proxyPort() {
        return proxy.routingPort();
    }

    /** The proxy's counters in the Prometheus text format (also part of {@code /metrics}). */
    public String proxyMetrics() {
        return proxy.metrics();
    }

    public ApiToken token() {
        return token;
    }

    public BranchService branches() {
        return branches;
    }

    /**
     * Stops the API, the proxy (client connections drop), every compute (fast
     * shutdown, unmount) and the store, then releases the lock. Idempotent; failures are logged and do not stop the rest.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!resources.isEmpty()) {
            AutoCloseable resource = resources.pop();
            try {
                resource.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + resource.getClass().getSimpleName() + " failed: " + e, e);
            }
        }
    }
}
