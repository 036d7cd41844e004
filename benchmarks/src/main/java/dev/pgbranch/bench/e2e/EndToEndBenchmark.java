package dev.pgbranch.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The benchmark suite: the storage engine under JMH ({@link JmhSuite}), then pgbranch measured
 * the way a user meets it, each figure next to its reference on plain PostgreSQL on local disk,
 * measured in the same run on the same machine.
 *
 * <p>Setup: a {@code pgbranch server} (started through the {@code ./pgbranch} launcher over a
 * fresh data directory) and a plain cluster {@code initdb}'d by the driver in a temporary
 * directory with the settings copied from the {@code development} compute. Branches are reached
 * through the connection string the API hands out (the proxy).
 *
 * <p>Per scale S (ascending): {@code pgbench -i -s S} on {@code development} and into a database
 * {@code src_sS} of the plain cluster (timed both ways); bytes on disk of both after the load;
 * {@code POST /branches} latency (median of 5) with the parent's compute running and stopped vs
 * {@code CREATE DATABASE x TEMPLATE src_sS} (median of 5) and vs {@code pg_ctl start} (median of
 * 5), drawn as a chart of creation time vs database size over every scale; time to first query
 * (create + connect + {@code SELECT 1}; median of 3) vs the same with {@code CREATE DATABASE} and
 * vs {@code pg_ctl start}, and at the largest scale again while pgbench runs on the parent (the
 * reference under the same pgbench on another copy in the plain cluster); reset end to end
 * (reset until the branch answers with its parent's data; median of 3) vs {@code DROP DATABASE}
 * + {@code CREATE DATABASE ... TEMPLATE} + connect. At the TPS scales (10 and the largest by
 * default): pgbench TPS (TPC-B and {@code -S}) on a branch (through the proxy, and straight to
 * its compute) vs a template copy, alternating. At the largest scale: the bytes on disk (without
 * either side's write-ahead log) after five branches / five copies that each update 1% of
 * {@code pgbench_accounts}, once as a contiguous range and once strided over every page.
 * {@code --profile} instead records where the server's time goes during TPC-B through the proxy
 * ({@link ServerProfile}).
 *
 * <p>Progress lines name the step, the time elapsed and an estimate of the time left
 * ({@link Progress}).
 *
 * <p>Whatever happens, everything started is stopped by pid and the temporary directory is
 * deleted ({@link Cleanup}, also on Ctrl-C); the results written so far stay in the run's
 * directory with {@code status: failed} and the error.
 *
 * <p>Thread-safety: one run per instance, on one thread.
 */
public final class EndToEndBenchmark {

    private static final int CREATE_SAMPLES = 5;
    private static final int START_SAMPLES = 5;
    private static final int FIRST_QUERY_SAMPLES = 3;
    private static final int RESET_SAMPLES = 3;
    private static final int STORAGE_BRANCHES = 5;
    private static final int CLI_SAMPLES = 7;
    private static final long ANSWER_DEADLINE_NANOS = 300_000_000_000L;
    /** Settings that name this cluster's own files, ports and sockets: never copied. */
    private static final Set<String> PER_CLUSTER_SETTINGS = Set.of("port", "listen_addresses", "unix_socket_directories",
            "data_directory", "hba_file", "ident_file", "config_file", "external_pid_file", "cluster_name");
    private static final List<String> REPORTED_SETTINGS = List.of("fsync", "synchronous_commit", "full_page_writes",
            "wal_sync_method", "shared_buffers", "max_wal_size", "checkpoint_timeout", "data_checksums");

    private final BenchOptions options;
    private final Progress progress;
    private Report report;
    private Machine machine;
    private PgbranchServer server;
    private Cleanup cleanup;
    private Path root;

    /** The run's scratch directory (deleted when the run ends), or null before the run made it. */
    Path scratchDirectory() {
        return root;
    }
    private PlainCluster plain;
    private Pgbench pgbench;
    /** Plain-cluster database size per scale (bytes of src_sN), for the creation-vs-size chart. */
    private final Map<Integer, Long> databaseBytes = new TreeMap<>();
    /** Per scale: median ms of branch creation (parent stopped, parent running) and of CREATE DATABASE. */
    private final Map<Integer, double[]> creation = new TreeMap<>();
    /** Median ms of pg_ctl start per scale, for the first-query rows. */
    private final Map<Integer, Double> pgCtlStart = new TreeMap<>();

    EndToEndBenchmark(BenchOptions options, PrintStream progress) {
        this.options = options;
        this.progress = new Progress(progress, System::nanoTime);
    }

    public static void main(String[] args) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.out.print(BenchOptions.USAGE);
            return;
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(BenchOptions.USAGE);
            System.exit(2);
            return;
        }
        try {
            Path results = new EndToEndBenchmark(options, System.err).run();
            System.out.println(results);
        } catch (BenchException e) {
            System.err.println("bench: FAILED: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Runs every selected measurement and returns the directory holding {@code results.json} and
     * {@code results.md}.
     *
     * @throws BenchException if a step failed (the partial results are written first)
     */
    public Path run() {
        Path bin = postgresBin();
        Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started);
        report = new Report(options.output().resolve(stamp), started.toString(), options.quick() ? "quick" : "full",
                options.asMap());
        String failure = null;
        cleanup = new Cleanup(this::log);
        // Runs very last. On an interrupt the JVM halts once the hook is done, before the finally
        // below could write the outcome: the hook writes it.
        cleanup.push("write the results", () -> {
            if (cleanup.ranByHook()) {
                report.finish(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                        "interrupted: the JVM was asked to exit (SIGTERM or Ctrl-C) before the run finished");
            }
        });
        // Runs last: a pgbench or psql still running after an interrupt is a child of this JVM.
        cleanup.push("kill leftover child processes", () -> ProcessHandle.current().descendants()
                .forEach(ProcessHandle::destroyForcibly));
        try {
            root = Files.createTempDirectory("pgbranch-bench");
            // 0711: the postgres user must reach the plain cluster and the compute mounts below.
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
            cleanup.push("delete " + root, () -> deleteTree(root));
            cleanup.push("keep logs", () -> keepLogs(root));
            machine = Machine.detect(bin, root, options.note());
            machine.put("pgbranchBuild", describeBuild());
            report.machine(machine.snapshot());
            report.write();
            JmhSuite jmh = new JmhSuite(options.quick(), root.resolve("jmh-parents"));
            plan(jmh);
            log("results: " + report.directory() + " (estimated " + Progress.clock(progress.remainingSeconds()) + ")");
            if (options.wants("jmh")) {
                storageEngine(jmh);
            }
            if (options.wantsEndToEnd()) {
                endToEnd(bin);
            }
            log("done in " + Progress.clock(progress.elapsedSeconds()));
            return report.directory();
        } catch (BenchException e) {
            failure = e.getMessage();
            throw e;
        } catch (IOException | RuntimeException e) {
            failure = e.toString();
            throw new BenchException(failure, e);
        } finally {
            log("cleaning up");
            cleanup.close();
            if (machine != null) {
                machine.finish();
                report.machine(machine.snapshot());
            }
            report.finish(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), failure);
            log((failure == null ? "results in " : "FAILED (" + failure + "); partial results in ") + report.directory());
        }
    }

    /** Declares the estimated seconds of every step this run will take, for the progress ETA. */
    private void plan(JmhSuite jmh) {
        if (options.wants("jmh")) {
            progress.plan(jmh.estimateSeconds());
        }
        if (!options.wantsEndToEnd()) {
            return;
        }
        progress.plan(20);
        List<Integer> scales = loadedScales();
        int pgbenchSeconds = options.seconds() + 1;
        for (int scale : scales) {
            progress.plan(4 + scale / 3);
            if (options.wants("create")) {
                progress.plan(12 + scale / 4);
            }
            if (options.wants("first-query")) {
                progress.plan(3 + scale / 6 + (scale == options.largestScale() ? 14 + scale / 5 : 0));
            }
            if (options.wants("reset")) {
                progress.plan(4 + scale / 4);
            }
            if (options.wants("tps") && options.tpsScales().contains(scale)) {
                progress.plan(4L * options.rounds() * 3 * pgbenchSeconds / 2 + 5);
            }
        }
        if (options.wants("storage")) {
            progress.plan(45 + options.largestScale());
        }
        if (options.wants("profile")) {
            progress.plan(2L * options.seconds() + 30);
        }
        if (options.wants("data-diff")) {
            progress.plan(60 + options.dataDiffMegabytes() / 2);
        }
        if (options.wants("cli")) {
            progress.plan(4L * CLI_SAMPLES + 10);
        }
    }

    /** The scales loaded with pgbench -i: every scale, or only those the selected group needs. */
    private List<Integer> loadedScales() {
        if (options.only() != null && options.only().equals("tps")) {
            return options.tpsScales();
        }
        if (options.only() != null && options.only().equals("profile")) {
            return List.of(options.largestScale());
        }
        if (options.only() != null && (options.only().equals("data-diff") || options.only().equals("cli"))) {
            return List.of();
        }
        return options.scales();
    }

    // ------------------------------------------------------------------------------ JMH

    private void storageEngine(JmhSuite jmh) {
        cleanup.push("delete JMH parents", () -> deleteTree(root.resolve("jmh-parents")));
        List<JmhSuite.Case> cases = jmh.plan();
        int[] index = {0};
        List<JmhSuite.Row> rows = jmh.run(report.directory(), c -> progress.step("JMH " + ++index[0] + "/" + cases.size()
                + ": " + c.title(), jmh.estimateSeconds(c)), failure -> {
                    log("JMH FAILED: " + failure);
                    report.note("JMH: " + failure);
                });
        report.addJmh(rows);
        for (JmhSuite.Row r : rows) {
            log("JMH " + JmhSuite.describe(r));
        }
        for (JmhSuite.Comparison c : JmhSuite.comparisons(rows)) {
            add(c.name(), c.value(), c.reference(), c.unit(), c.measures(), c.referenceMeasures(),
                    c.details() + "; JMH " + (options.quick() ? "quick: 1 warm-up x 1 s, 1 x 1 s measured"
                            : "2 warm-up x 1 s, 3 x 2 s measured") + ", 1 fork, engine fsync on unless stated; "
                            + "parents built with fsync off and reopened");
        }
        deleteTree(root.resolve("jmh-parents"));
    }

    // ------------------------------------------------------------------------------ end to end

    private void endToEnd(Path bin) {
        progress.step("starting pgbranch server (" + options.launcher() + ")", 20);
        server = PgbranchServer.start(options.launcher(), options.serverClasspath(), root.resolve("pgbranch"),
                root.resolve("server.log"));
        cleanup.push("stop pgbranch server pid " + server.pid(), server::close);
        Endpoint development = awake("development");
        String computePort = Sql.queryText("port of development's compute", development, "SHOW port");
        String path = computePort.equals(Integer.toString(development.port())) ? "direct to the compute"
                : "through the wire proxy (compute on port " + computePort + ")";
        machine.put("branchConnections", "the API's connection uri, " + path);
        log("development: " + development + ", " + path);

        log("initdb of the plain cluster");
        plain = PlainCluster.initialize(bin, root.resolve("plain"), root.resolve("plain-run"), randomPassword());
        cleanup.push("stop plain cluster", plain::close);
        plain.configure(copiedSettings(development));
        plain.start();
        pgbench = new Pgbench(bin, root);
        recordSettings(development);

        for (int scale : loadedScales()) {
            load(scale);
            if (options.wants("profile")) {
                progress.step("profile: JFR + CPU split of pgbench TPC-B through the proxy, then straight to the "
                        + "compute (s=" + scale + ")", 2L * options.seconds() + 30);
                new ServerProfile(server, pgbench, report, progress::log).run(scale, options);
                continue;
            }
            if (options.wants("create")) {
                branchCreation(scale);
            }
            if (options.wants("first-query")) {
                firstQuery(scale);
                if (scale == options.largestScale()) {
                    firstQueryUnderLoad(scale);
                }
            }
            if (options.wants("reset")) {
                reset(scale);
            }
            if (options.wants("tps") && options.tpsScales().contains(scale)) {
                throughput(scale);
            }
        }
        if (options.wants("create")) {
            creationChart();
        }
        if (options.wants("storage")) {
            storageOfBranches(options.largestScale());
        }
        if (options.wants("data-diff")) {
            dataDiff(options.dataDiffMegabytes());
        }
        if (options.wants("cli")) {
            cliLatency(bin);
        }
    }

    // ------------------------------------------------------------------------------ CLI latency

    /**
     * Wall time of whole CLI processes through the {@code ./pgbranch} launcher as a user runs them
     * ({@code connect}, {@code branch list}, {@code branch create}), each beside {@code psql -c
     * 'select 1'} on the same branch: the reference a user compares with (a client program that
     * connects, asks and exits). Runs alternate (CLI, psql, CLI, psql ...) after one warm-up of
     * each, which also makes the CLI's start-up cache if the build has none yet.
     */
    private void cliLatency(Path bin) {
        progress.step("CLI latency: connect, branch list, branch create vs psql -c 'select 1' x" + CLI_SAMPLES,
                4L * CLI_SAMPLES + 10);
        Endpoint development = awake("development");
        String dataDir = server.dataDirectory().toString();
        // The launcher's own settings (PGBRANCH_*) reach it, as they reach the server; other PG* do not.
        Map<String, String> environment = new TreeMap<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("PGBRANCH_")) {
                environment.put(k, v);
            }
        });
        if (options.serverClasspath() != null) {
            environment.put("PGBRANCH_CLASSPATH", options.serverClasspath());
        }
        List<String> psql = List.of(bin.resolve("psql").toString(), "-X", "-At", "-c", "select 1", development.libpqUri());
        Map<String, IntFunction<List<String>>> commands = new LinkedHashMap<>();
        commands.put("connect", i -> List.of(options.launcher().toString(), "connect", "development", "--data-dir", dataDir));
        commands.put("branch_list", i -> List.of(options.launcher().toString(), "branch", "list", "--data-dir", dataDir));
        commands.put("branch_create", i -> List.of(options.launcher().toString(), "branch", "create", "bench/cli/" + i,
                "--parent", "development", "--data-dir", dataDir));
        for (Map.Entry<String, IntFunction<List<String>>> command : commands.entrySet()) {
            long[] cli = new long[CLI_SAMPLES];
            long[] reference = new long[CLI_SAMPLES];
            for (int i = -1; i < CLI_SAMPLES; i++) {
                Commands.Result run = Commands.check("pgbranch " + command.getKey(), command.getValue().apply(i),
                        environment, root, Duration.ofMinutes(2));
                Commands.Result select = Commands.check("psql -c 'select 1'", psql, development.libpqEnvironment(), root,
                        Duration.ofMinutes(2));
                if (i >= 0) {
                    cli[i] = run.nanos();
                    reference[i] = select.nanos();
                }
            }
            add("cli_" + command.getKey(), median(cli), median(reference), "ms",
                    "./pgbranch " + String.join(" ", command.getValue().apply(0).subList(1, 3))
                            + " as a whole process (launcher, JVM, request, output)",
                    "psql -X -At -c 'select 1' on development through the proxy as a whole process",
                    "median of " + CLI_SAMPLES + " after one warm-up, alternating; pgbranch samples " + samples(cli)
                            + "; reference samples " + samples(reference));
        }
        for (int i = -1; i < CLI_SAMPLES; i++) {
            server.delete("bench/cli/" + i);
        }
    }

    // ------------------------------------------------------------------------------ 0. load

    private void load(int scale) {
        progress.step("pgbench -i -s " + scale + " on development, then on the plain cluster", 4 + scale / 3);
        Endpoint development = awake("development");
        long branchNanos = pgbench.initialize(development, scale);
        String source = source(scale);
        Sql.execute("CREATE DATABASE " + source, admin(), "CREATE DATABASE " + source);
        log("pgbench -i -s " + scale + " on the plain cluster (" + source + ")");
        long plainNanos = pgbench.initialize(plain.endpoint(source), scale);
        databaseBytes.put(scale, Long.parseLong(Sql.queryText("size of " + source, admin(),
                "SELECT pg_database_size(" + Sql.literal(source) + ")")));
        add("pgbench_init_s" + scale, seconds(branchNanos), seconds(plainNanos), "s",
                "pgbench -i -s " + scale + " on the development branch through its connection string",
                "pgbench -i -s " + scale + " into a new database of the plain cluster",
                "one run each, wall clock of the pgbench process (data, indexes, vacuum)");
        if (options.wants("storage")) {
            checkpoint(plain.endpoint("postgres"));
            DiskUsage.Usage branchBytes = pgbranchBytesAtRest();
            DiskUsage.Usage plainBytes = plainBytes();
            add("storage_after_load_s" + scale, branchBytes.data(), plainBytes.data(), "bytes",
                    "pgbranch data directory without its ingest log (all history kept: initdb, every load so far, "
                            + "branch metadata)",
                    "plain cluster's data directory without pg_wal (every loaded database so far)",
                    "pgbranch at rest (" + AT_REST + "), plain after CHECKPOINT; du -s -B1 -x; " + logs(branchBytes,
                            plainBytes));
        }
    }

    // ------------------------------------------------------------------------------ 1. create

    private void branchCreation(int scale) {
        progress.step("branch creation vs CREATE DATABASE ... TEMPLATE vs pg_ctl start (s=" + scale + ")", 12 + scale / 4);
        Endpoint development = awake("development");
        // The load leaves dirty buffers on both sides: flush them first so that no sample pays for it.
        checkpoint(development);
        checkpoint(plain.endpoint("postgres"));
        ensureRunning("development", development);
        log("branch create x" + CREATE_SAMPLES + ", parent compute running (s=" + scale + ")");
        long[] running = createBranches("bench/s" + scale + "/running/", "development");
        server.stopCompute("development");
        log("branch create x" + CREATE_SAMPLES + ", parent compute stopped (s=" + scale + ")");
        long[] stopped = createBranches("bench/s" + scale + "/stopped/", "development");

        log("CREATE DATABASE ... TEMPLATE " + source(scale) + " x" + CREATE_SAMPLES);
        long[] copies = new long[CREATE_SAMPLES];
        try (Connection c = admin().connect(); Statement s = c.createStatement()) {
            for (int i = 0; i < copies.length; i++) {
                long t0 = System.nanoTime();
                s.execute("CREATE DATABASE copy_" + i + " TEMPLATE " + source(scale));
                copies[i] = System.nanoTime() - t0;
            }
            for (int i = 0; i < copies.length; i++) {
                s.execute("DROP DATABASE copy_" + i);
            }
        } catch (SQLException e) {
            throw new BenchException("CREATE DATABASE TEMPLATE " + source(scale) + " failed: " + e.getMessage(), e);
        }

        log("pg_ctl start of the plain cluster x" + START_SAMPLES);
        long[] starts = new long[START_SAMPLES];
        for (int i = 0; i < starts.length; i++) {
            plain.stop();
            starts[i] = plain.start();
        }

        creation.put(scale, new double[] {median(stopped), median(running), median(copies)});
        pgCtlStart.put(scale, median(starts));
        String templateWhat = "CREATE DATABASE x TEMPLATE src_s" + scale + " (default strategy, PostgreSQL "
                + machine.get("postgresMajor") + ") on the plain cluster, statement time over pgjdbc";
        add("branch_create_parent_running_s" + scale, median(running), median(copies), "ms",
                "POST /v1/projects/default/branches from development, its compute running (includes its CHECKPOINT)",
                templateWhat, "median of " + CREATE_SAMPLES + "; database size " + megabytes(scale) + "; pgbranch samples " + samples(running)
                        + "; reference samples " + samples(copies));
        add("branch_create_parent_stopped_s" + scale, median(stopped), median(copies), "ms",
                "POST /v1/projects/default/branches from development, its compute stopped",
                templateWhat, "median of " + CREATE_SAMPLES + "; database size " + megabytes(scale) + "; pgbranch samples " + samples(stopped)
                        + "; reference samples " + samples(copies));
        add("branch_create_vs_pg_ctl_start_s" + scale, median(stopped), median(starts), "ms",
                "POST /v1/projects/default/branches from development, its compute stopped",
                "pg_ctl start -w of the plain cluster (stopped cleanly with -m fast before each)",
                "median of " + START_SAMPLES + "; reference samples " + samples(starts)
                        + "; pg_ctl -w polls readiness every 100 ms");
    }

    /** Creates {@link #CREATE_SAMPLES} branches named {@code prefix + i}, timing each call, then deletes them. */
    private long[] createBranches(String prefix, String parent) {
        long[] nanos = new long[CREATE_SAMPLES];
        for (int i = 0; i < nanos.length; i++) {
            long t0 = System.nanoTime();
            JsonNode created = server.create(prefix + i, parent);
            nanos[i] = System.nanoTime() - t0;
            if (!(prefix + i).equals(created.path("name").asText())) {
                throw new BenchException("POST /branches answered for another branch: " + created);
            }
        }
        for (int i = 0; i < nanos.length; i++) {
            server.delete(prefix + i);
        }
        return nanos;
    }

    // ------------------------------------------------------------------------------ 2. first query

    private void firstQuery(int scale) {
        String parentState = server.show("development").path("computeState").asText();
        progress.step("time to first query x" + FIRST_QUERY_SAMPLES + " (s=" + scale + ", development " + parentState + ")",
                3 + scale / 6);
        long[] branch = new long[FIRST_QUERY_SAMPLES];
        long[] creates = new long[FIRST_QUERY_SAMPLES];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < branch.length; i++) {
            String name = "ttfq/s" + scale + "/" + i;
            names.add(name);
            firstQuery(name, "", creates, branch, i);
        }
        for (String name : names) {
            server.delete(name);
        }

        long[] reference = new long[FIRST_QUERY_SAMPLES];
        try (Connection c = admin().connect(); Statement s = c.createStatement()) {
            for (int i = 0; i < reference.length; i++) {
                long t0 = System.nanoTime();
                s.execute("CREATE DATABASE ttfq_" + i + " TEMPLATE " + source(scale));
                try (Connection q = plain.endpoint("ttfq_" + i).connect()) {
                    Sql.selectOne(q);
                }
                reference[i] = System.nanoTime() - t0;
            }
            for (int i = 0; i < reference.length; i++) {
                s.execute("DROP DATABASE ttfq_" + i);
            }
        } catch (SQLException e) {
            throw new BenchException("first query on a template copy failed: " + e.getMessage(), e);
        }
        add("first_query_s" + scale, median(branch), median(reference), "ms",
                "POST /branches + GET connection + pgjdbc connect + SELECT 1 on the new branch (the connection wakes the "
                        + "compute; a build without the proxy: POST compute/start when refused)",
                "CREATE DATABASE x TEMPLATE src_s" + scale + " + pgjdbc connect + SELECT 1 on the plain cluster",
                "median of " + FIRST_QUERY_SAMPLES + "; parent compute " + parentState + "; pgbranch samples "
                        + samples(branch) + " of which the create call " + samples(creates) + "; reference samples "
                        + samples(reference));
        if (pgCtlStart.containsKey(scale)) {
            add("first_query_vs_pg_ctl_start_s" + scale, median(branch), pgCtlStart.get(scale), "ms",
                    "POST /branches + connect (compute wake) + SELECT 1 on the new branch, idle machine",
                    "pg_ctl start -w of a plain cluster on local disk (stopped cleanly before; measured in the "
                            + "branch creation step of this scale)",
                    "median of " + FIRST_QUERY_SAMPLES + " vs median of " + START_SAMPLES + "; pg_ctl -w polls "
                            + "readiness every 100 ms");
        }
    }

    /**
     * Time to first query on a new branch while pgbench (TPC-B, the run's -c/-j) hammers its
     * parent through the proxy: the create checkpoints a busy parent compute, and the new
     * compute starts on a loaded machine. Reference: {@code CREATE DATABASE ... TEMPLATE} +
     * connect + {@code SELECT 1} while the same pgbench runs on another copy of the data in the
     * same plain cluster (it cannot run on the template itself: CREATE DATABASE refuses a
     * template with other sessions).
     */
    private void firstQueryUnderLoad(int scale) {
        progress.step("time to first query under pgbench load x" + FIRST_QUERY_SAMPLES + " (s=" + scale + ")",
                14 + scale / 5);
        long[] branch = new long[FIRST_QUERY_SAMPLES];
        long[] creates = new long[FIRST_QUERY_SAMPLES];
        List<String> names = new ArrayList<>();
        double branchLoadTps;
        // The load runs until it is closed; -T only bounds it if this JVM dies without killing it.
        try (Pgbench.Load load = pgbench.startLoad(awake("development"), options.clients(), options.threads(), 900)) {
            load.awaitProgress(2, Duration.ofMinutes(2));
            for (int i = 0; i < branch.length; i++) {
                String name = "ttfq-load/s" + scale + "/" + i;
                names.add(name);
                firstQuery(name, " under load", creates, branch, i);
                if (!load.isAlive()) {
                    throw new BenchException("the pgbench load on development stopped early: " + load.output());
                }
            }
            branchLoadTps = load.meanTps();
        }
        for (String name : names) {
            server.delete(name);
        }

        long[] reference = new long[FIRST_QUERY_SAMPLES];
        double plainLoadTps;
        String loaded = "load_copy";
        Sql.execute("CREATE DATABASE " + loaded, admin(), "CREATE DATABASE " + loaded + " TEMPLATE " + source(scale));
        try (Pgbench.Load load = pgbench.startLoad(plain.endpoint(loaded), options.clients(), options.threads(), 900);
             Connection c = admin().connect(); Statement s = c.createStatement()) {
            load.awaitProgress(2, Duration.ofMinutes(2));
            for (int i = 0; i < reference.length; i++) {
                long t0 = System.nanoTime();
                s.execute("CREATE DATABASE ttfq_load_" + i + " TEMPLATE " + source(scale));
                try (Connection q = plain.endpoint("ttfq_load_" + i).connect()) {
                    Sql.selectOne(q);
                }
                reference[i] = System.nanoTime() - t0;
                if (!load.isAlive()) {
                    throw new BenchException("the pgbench load on the plain cluster stopped early: " + load.output());
                }
            }
            plainLoadTps = load.meanTps();
        } catch (SQLException e) {
            throw new BenchException("first query on a template copy under load failed: " + e.getMessage(), e);
        }
        try (Connection c = admin().connect(); Statement s = c.createStatement()) {
            for (int i = 0; i < reference.length; i++) {
                s.execute("DROP DATABASE ttfq_load_" + i);
            }
            s.execute("DROP DATABASE " + loaded + " WITH (FORCE)");
        } catch (SQLException e) {
            throw new BenchException("dropping the template copies failed: " + e.getMessage(), e);
        }
        String load = "pgbench TPC-B -c " + options.clients() + " -j " + options.threads();
        add("first_query_under_load_s" + scale, median(branch), median(reference), "ms",
                "POST /branches + connect (compute wake) + SELECT 1 on a new branch of development while " + load
                        + " runs on development itself through the proxy (the create checkpoints the busy parent)",
                "CREATE DATABASE x TEMPLATE src_s" + scale + " + connect + SELECT 1 while " + load
                        + " runs on another template copy in the same plain cluster",
                String.format(Locale.ROOT, "median of %d; load during the samples: pgbranch %.0f tps, plain %.0f tps "
                        + "(pgbench -P 1); pgbranch samples %s of which the create call %s; reference samples %s",
                        FIRST_QUERY_SAMPLES, branchLoadTps, plainLoadTps, samples(branch), samples(creates),
                        samples(reference)));
        if (pgCtlStart.containsKey(scale)) {
            add("first_query_under_load_vs_pg_ctl_start_s" + scale, median(branch), pgCtlStart.get(scale), "ms",
                    "POST /branches + connect + SELECT 1 on a new branch while " + load + " runs on its parent",
                    "pg_ctl start -w of a plain cluster on local disk, idle machine (measured in the branch creation "
                            + "step of this scale)", "median of " + FIRST_QUERY_SAMPLES + " vs median of " + START_SAMPLES);
        }
    }

    /** The creation-vs-size chart (PNG, log-log) of every scale measured, into the run's directory. */
    private void creationChart() {
        if (creation.isEmpty()) {
            return;
        }
        List<Chart.Point> stopped = new ArrayList<>();
        List<Chart.Point> running = new ArrayList<>();
        List<Chart.Point> template = new ArrayList<>();
        creation.forEach((scale, ms) -> {
            double mb = databaseBytes.getOrDefault(scale, 0L) / 1e6;
            stopped.add(new Chart.Point(mb, ms[0]));
            running.add(new Chart.Point(mb, ms[1]));
            template.add(new Chart.Point(mb, ms[2]));
        });
        Chart chart = new Chart("Branch creation time vs database size", "database size, MB (pgbench scales "
                + creation.keySet().stream().map(String::valueOf).collect(Collectors.joining(", ")) + ")",
                "median time, ms (log scale)", List.of(
                        new Chart.Series("pgbranch create, parent stopped", stopped),
                        new Chart.Series("pgbranch create, parent running", running),
                        new Chart.Series("CREATE DATABASE ... TEMPLATE", template)));
        Path png = report.directory().resolve(CREATION_CHART);
        try {
            chart.write(png, 960, 600);
        } catch (IOException e) {
            throw new BenchException("cannot write " + png + ": " + e.getMessage(), e);
        }
        report.note("chart " + CREATION_CHART + ": branch creation (POST /branches, parent stopped and running) vs "
                + "CREATE DATABASE ... TEMPLATE, median ms by database size (plain cluster's pg_database_size), log-log");
        log("chart: " + png);
    }

    static final String CREATION_CHART = "creation-vs-size.png";

    private String megabytes(int scale) {
        Long bytes = databaseBytes.get(scale);
        return bytes == null ? "unknown" : String.format(Locale.ROOT, "%.0f MB (pg_database_size of src_s%d)", bytes / 1e6, scale);
    }

    // ------------------------------------------------------------------------------ 3. reset

    private static final String DIVERGE = "UPDATE pgbench_branches SET bbalance = bbalance + 1000000 WHERE bid = 1";
    private static final String DIVERGED = "SELECT bbalance >= 1000000 FROM pgbench_branches WHERE bid = 1";

    private void reset(int scale) {
        String name = "reset/s" + scale;
        progress.step("reset end to end x" + RESET_SAMPLES + " (s=" + scale + ")", 4 + scale / 4);
        server.create(name, "development");
        Endpoint branch = awake(name);
        long[] resets = new long[RESET_SAMPLES];
        long[] calls = new long[RESET_SAMPLES];
        for (int i = 0; i < resets.length; i++) {
            Sql.execute("diverge " + name, branch, DIVERGE);
            server.rememberComputePids();
            long t0 = System.nanoTime();
            server.reset(name);
            calls[i] = System.nanoTime() - t0;
            awaitParentState(name, branch); // the same connection string: reset keeps it
            resets[i] = System.nanoTime() - t0;
        }
        server.rememberComputePids();
        server.delete(name);

        long[] reference = new long[RESET_SAMPLES];
        String copy = "reset_copy";
        try (Connection c = admin().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + copy + " TEMPLATE " + source(scale));
            for (int i = 0; i < reference.length; i++) {
                Sql.execute("diverge " + copy, plain.endpoint(copy), DIVERGE);
                long t0 = System.nanoTime();
                s.execute("DROP DATABASE " + copy + " WITH (FORCE)");
                s.execute("CREATE DATABASE " + copy + " TEMPLATE " + source(scale));
                awaitParentState(copy, plain.endpoint(copy));
                reference[i] = System.nanoTime() - t0;
            }
            s.execute("DROP DATABASE " + copy);
        } catch (SQLException e) {
            throw new BenchException("re-copying a template database failed: " + e.getMessage(), e);
        }
        add("reset_s" + scale, median(resets), median(reference), "ms",
                "POST /branches/{b}/reset with the compute running, until the branch's unchanged connection string "
                        + "answers SELECT with the parent's data",
                "DROP DATABASE x WITH (FORCE) + CREATE DATABASE x TEMPLATE src_s" + scale
                        + " + connect + the same SELECT on the plain cluster",
                "median of " + RESET_SAMPLES + "; pgbranch samples " + samples(resets) + " of which the reset call "
                        + samples(calls) + "; reference samples " + samples(reference));
    }

    // ------------------------------------------------------------------------------ data diff

    /** Rows of about 150 bytes (55 per 8 KB page): {@code megabytes} of heap. */
    private static final int ROWS_PER_MEGABYTE = 7_000;
    private static final int DATA_DIFF_SAMPLES = 3;

    /**
     * Row-level data diff of a table of {@code megabytes} with 1% of its rows changed on a branch
     * (one contiguous id range, as a batch job or a migration's backfill changes rows), against a
     * full-table EXCEPT of the same two tables in both directions through postgres_fdw, in the
     * same run; then the diff's own full-compare fallback after VACUUM FULL, against the same
     * reference.
     */
    private void dataDiff(int megabytes) {
        long rows = (long) megabytes * ROWS_PER_MEGABYTE;
        long changed = rows / 100;
        progress.step("data diff: load " + megabytes + " MB (" + rows + " rows) on development", 20 + megabytes / 8);
        Endpoint development = awake("development");
        Sql.execute("load the data-diff table", development,
                "DROP TABLE IF EXISTS dd_bench",
                "CREATE TABLE dd_bench (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, payload text NOT NULL)",
                "INSERT INTO dd_bench SELECT g, g % 1000, g % 7, repeat(md5(g::text), 3) || 'x' FROM generate_series(1, " + rows + ") g",
                // A first read sets hint bits on every page, a write each: done here, not on the branch.
                "VACUUM FREEZE dd_bench");
        long tableBytes = Long.parseLong(Sql.queryText("size of dd_bench", development, "SELECT pg_relation_size('dd_bench')"));
        String name = "bench/dd";
        server.create(name, "development");
        Endpoint branch = awake(name);
        Sql.execute("change 1% of the rows", branch, "UPDATE dd_bench SET a = a + 1 WHERE id <= " + changed);

        progress.step("data diff x" + DATA_DIFF_SAMPLES + " (changed pages only)", 10 + megabytes / 50);
        long[] diffs = new long[DATA_DIFF_SAMPLES];
        JsonNode last = null;
        for (int i = 0; i < diffs.length; i++) {
            long t0 = System.nanoTime();
            last = server.dataDiff(name, "dd_bench", null);
            diffs[i] = System.nanoTime() - t0;
        }
        JsonNode table = last.path("databases").get(0).path("tables").get(0);
        long found = table.path("changed").asLong();
        if (found != changed) {
            throw new BenchException("the data diff found " + found + " changed rows, not " + changed);
        }
        long blocks = table.path("read").path("blocks").asLong(-1);

        progress.step("full-table EXCEPT of both sides through postgres_fdw", 20 + megabytes / 6);
        long except = fullExcept(name, changed);

        progress.step("data diff after VACUUM FULL (full compare)", 20 + megabytes / 6);
        Sql.execute("VACUUM FULL on the branch", branch, "VACUUM FULL dd_bench");
        long t0 = System.nanoTime();
        JsonNode full = server.dataDiff(name, "dd_bench", null);
        long fallback = System.nanoTime() - t0;
        JsonNode fullTable = full.path("databases").get(0).path("tables").get(0);
        if (fullTable.path("changed").asLong() != changed || !fullTable.path("read").has("full")) {
            throw new BenchException("the full-compare data diff found " + fullTable.path("changed").asLong() + " rows, read "
                    + fullTable.path("read"));
        }
        server.rememberComputePids();
        server.delete(name);
        Sql.execute("drop the data-diff table", development, "DROP TABLE dd_bench");

        String setup = String.format(Locale.ROOT, "table of %.0f MB heap, %d rows, %d (1%%) updated on the branch in one "
                + "contiguous id range (non-HOT: old and new versions on different pages)", tableBytes / 1e6, rows, changed);
        add("data_diff_1pct_" + megabytes + "mb", median(diffs), except / 1e6, "ms",
                "GET .../data-diff?table=dd_bench, three-way against development (wakes, CHECKPOINTs, base compute start "
                        + "and stop, TID range scans of the " + blocks + " changed blocks on 3 computes)",
                "SELECT count(*) of (a EXCEPT b) UNION ALL (b EXCEPT a), a and b the branch's and development's table "
                        + "through postgres_fdw (fetch_size 10000) in a scratch database of the branch",
                setup + "; median of " + DATA_DIFF_SAMPLES + " " + samples(diffs) + "; reference 1 sample");
        add("data_diff_fallback_" + megabytes + "mb", fallback / 1e6, except / 1e6, "ms",
                "the same data diff after VACUUM FULL on the branch (new relfilenode): full compare, both sides and the "
                        + "base streamed in key order and merged",
                "the same full-table EXCEPT (measured before the VACUUM FULL)", setup + "; 1 sample each");
    }

    /** Milliseconds of a full two-way EXCEPT between the branch's and development's table. */
    private long fullExcept(String name, long changed) {
        Endpoint branch = awake(name);
        Endpoint parent = awake("development");
        Sql.execute("create the reference database", branch, "CREATE DATABASE dd_reference");
        Endpoint ref = branch.withDatabase("dd_reference");
        List<String> setup = new ArrayList<>(List.of("CREATE EXTENSION postgres_fdw"));
        for (String[] side : new String[][] {{"a", Integer.toString(branch.port()), branch.user(), branch.password()},
                {"b", Integer.toString(parent.port()), parent.user(), parent.password()}}) {
            setup.add("CREATE SERVER side_" + side[0] + " FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '"
                    + side[1] + "', dbname 'postgres', fetch_size '10000')");
            setup.add("CREATE USER MAPPING FOR CURRENT_USER SERVER side_" + side[0] + " OPTIONS (user " + Sql.literal(side[2])
                    + ", password " + Sql.literal(side[3]) + ")");
            setup.add("CREATE FOREIGN TABLE " + side[0] + " (id bigint, a int, b int, payload text) SERVER side_" + side[0]
                    + " OPTIONS (table_name 'dd_bench')");
        }
        Sql.execute("set up postgres_fdw", ref, setup.toArray(String[]::new));
        long t0 = System.nanoTime();
        String count = Sql.queryText("full-table EXCEPT", ref,
                "SELECT count(*) FROM ((SELECT * FROM a EXCEPT SELECT * FROM b) UNION ALL (SELECT * FROM b EXCEPT SELECT * FROM a)) d");
        long nanos = System.nanoTime() - t0;
        if (Long.parseLong(count) != 2 * changed) {
            throw new BenchException("the EXCEPT reference found " + count + " rows, not " + 2 * changed);
        }
        Sql.execute("drop the reference database", branch, "DROP DATABASE dd_reference");
        return nanos;
    }

    /** Connects to {@code target} until it answers and shows its parent's data again (retrying while it restarts). */
    private void awaitParentState(String what, Endpoint target) {
        long deadline = System.nanoTime() + ANSWER_DEADLINE_NANOS;
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try (Connection c = target.connect()) {
                String diverged = Sql.queryText(c, DIVERGED);
                if ("f".equals(diverged) || "false".equals(diverged)) {
                    return;
                }
                throw new BenchException(what + " answers but still shows its own change: the reset did not happen");
            } catch (SQLException e) {
                last = e;
                PgbranchServer.sleep(20);
            }
        }
        throw new BenchException(what + " did not answer within 300 s after the reset: "
                + (last == null ? "" : last.getMessage()), last);
    }

    // ------------------------------------------------------------------------------ 4. TPS

    private void throughput(int scale) {
        progress.step("pgbench TPS A/B at scale " + scale + ": " + options.rounds() + " rounds x TPC-B and -S x pgbranch, "
                + "its compute, the routing port, PgBouncer, plain; -T " + options.seconds(), 10L * options.rounds() * (options.seconds() + 1) + 5);
        String name = "bench/tps";
        server.create(name, "development");
        Endpoint branch = awake(name);
        // The same compute without the proxy: its internal loopback port, which users never get,
        // so the proxy's share of the gap to plain Postgres is measured in the same run.
        int computePort = Integer.parseInt(Sql.queryText("port of " + name + "'s compute", branch, "SHOW port"));
        Endpoint compute = new Endpoint(branch.host(), computePort, branch.user(), branch.password(), branch.database(),
                branch.parameters());
        Sql.execute("CREATE DATABASE tps_copy", admin(), "CREATE DATABASE tps_copy TEMPLATE " + source(scale));
        Endpoint copy = plain.endpoint("tps_copy");
        // The routing port relays every session (options=branch=): the proxy's own path, while the
        // branch port of a running compute is handed to the compute by the kernel where it can be.
        Endpoint routing = server.routingConnection(name);
        Map<String, Endpoint> sides = new LinkedHashMap<>(Map.of("pgbranch", branch, "compute", compute, "routing", routing,
                "plain", copy));
        // The relay reference: PgBouncer (session mode) in front of the same compute's internal port.
        PgBouncer bouncer = null;
        if (PgBouncer.installed()) {
            bouncer = PgBouncer.start(compute, root.resolve("pgbouncer-s" + scale));
            PgBouncer started = bouncer;
            cleanup.push("stop pgbouncer", started::close);
            sides.put("pgbouncer", bouncer.endpoint().withDatabase(compute.database()));
        } else {
            log("  " + PgBouncer.BINARY + " is not installed (apt-get install pgbouncer): no relay reference row");
        }
        List<String> sideNames = new ArrayList<>(List.of("pgbranch", "compute", "routing"));
        if (bouncer != null) {
            sideNames.add("pgbouncer");
        }
        sideNames.add("plain");
        Map<String, List<Pgbench.Run>> runs = new LinkedHashMap<>();
        Map<String, String> fuseCost = new LinkedHashMap<>();
        for (int round = 1; round <= options.rounds(); round++) {
            for (boolean selectOnly : new boolean[] {false, true}) {
                // Alternate: pgbranch first in odd rounds, the plain cluster first in even ones.
                List<String> order = new ArrayList<>(sideNames);
                if (round % 2 == 0) {
                    java.util.Collections.reverse(order);
                }
                for (String side : order) {
                    log("  pgbench " + (selectOnly ? "-S" : "TPC-B") + " -c " + options.clients() + " -j " + options.threads()
                            + " -T " + options.seconds() + " on " + side + " (round " + round + "/" + options.rounds()
                            + ", s=" + scale + ")");
                    boolean onFuse = side.equals("pgbranch") || side.equals("compute");
                    Map<String, Long> fuseBefore = onFuse ? server.fuseRequests() : Map.of();
                    Pgbench.Run run = pgbench.run(sides.get(side), options.clients(), options.threads(),
                            options.seconds(), selectOnly);
                    log(String.format(Locale.ROOT, "  tps %.1f, latency %.3f ms", run.tps(), run.latencyMillis()));
                    if (onFuse) {
                        // pgbench's vacuum and connection setup fall inside too: an upper bound per transaction.
                        String perTx = fusePerTransaction(fuseBefore, server.fuseRequests(), run.tps() * options.seconds());
                        log("  FUSE requests per transaction: " + perTx);
                        fuseCost.merge((selectOnly ? "-S" : "-tpcb"), perTx, (a, b) -> b);
                    }
                    runs.computeIfAbsent(side + (selectOnly ? "-S" : "-tpcb"), k -> new ArrayList<>()).add(run);
                    server.rememberComputePids();
                }
            }
        }
        for (boolean selectOnly : new boolean[] {false, true}) {
            String mode = selectOnly ? "-S" : "-tpcb";
            List<Pgbench.Run> a = runs.get("pgbranch" + mode);
            List<Pgbench.Run> direct = runs.get("compute" + mode);
            List<Pgbench.Run> relayed = runs.get("routing" + mode);
            List<Pgbench.Run> b = runs.get("plain" + mode);
            String workload = selectOnly ? "select-only (-S)" : "TPC-B (default script)";
            String rows = selectOnly ? "tps_select_only" : "tps_tpcb";
            String how = "mean of " + options.rounds() + " alternating rounds, -c " + options.clients() + " -j "
                    + options.threads() + " -T " + options.seconds() + ", sslmode=disable everywhere";
            String reference = "pgbench " + workload + " on a template copy of src_s" + scale + " on the plain cluster";
            add(rows + "_s" + scale, meanTps(a), meanTps(b), "tps",
                    "pgbench " + workload + " on a branch of development, through its connection string (the proxy)",
                    reference, how + "; pgbranch " + describe(a) + "; reference " + describe(b));
            add(rows + "_direct_s" + scale, meanTps(direct), meanTps(b), "tps",
                    "pgbench " + workload + " on the same branch's compute at its internal port (no proxy: not a user "
                            + "path, it splits the gap between the proxy and the FUSE-backed compute)",
                    reference, how + "; pgbranch " + describe(direct) + "; reference " + describe(b)
                            + "; FUSE requests per transaction (last run on the compute's mount) "
                            + fuseCost.getOrDefault(mode, "not reported"));
            add(rows + "_routing_s" + scale, meanTps(relayed), meanTps(b), "tps",
                    "pgbench " + workload + " on the same branch through the proxy's routing port (options=branch=, "
                            + "every session relayed)",
                    reference, how + "; pgbranch " + describe(relayed) + "; reference " + describe(b));
            if (bouncer != null) {
                List<Pgbench.Run> bounced = runs.get("pgbouncer" + mode);
                add(rows + "_pgbouncer_s" + scale, meanTps(bounced), meanTps(b), "tps",
                        "pgbench " + workload + " through PgBouncer " + "(Debian package, session mode) in front of the same "
                                + "compute's internal port: the relay reference for the routing port",
                        reference, how + "; pgbouncer " + describe(bounced) + "; reference " + describe(b));
            }
        }
        if (bouncer != null) {
            bouncer.close();
        }
        server.delete(name);
        Sql.execute("DROP DATABASE tps_copy", admin(), "DROP DATABASE tps_copy");
    }

    // ------------------------------------------------------------------------------ 5. storage

    /**
     * Two update patterns, each on five fresh branches and five fresh template copies: a
     * contiguous 1% of {@code pgbench_accounts} (1% of its pages change: CoW's good case) and a
     * strided 1% ({@code aid % 100 = i}: about one row in every page, so every page changes: its
     * worst case). Each pattern's growth is measured from the state before it.
     */
    private void storageOfBranches(int scale) {
        progress.step("storage: 5 branches vs 5 copies, contiguous and strided 1% updates (s=" + scale + ")", 45 + scale);
        checkpoint(plain.endpoint("postgres"));
        long branchStart = pgbranchBytesAtRest().data();
        long plainStart = plainBytes().data();
        long rowsPerPercent = 1000L * scale;
        long[] afterRange = storagePattern(scale, "range", branchStart, plainStart,
                i -> "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid > " + i * rowsPerPercent
                        + " AND aid <= " + (i + 1) * rowsPerPercent,
                "aid in the i-th contiguous 1% range (1% of the table's pages change)");
        storagePattern(scale, "strided", afterRange[0], afterRange[1],
                i -> "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = " + i,
                "aid % 100 = i (one row in about every page: every page of the table changes)");
    }

    /** Five branches and five copies updated by {@code update.apply(i)}; returns the bytes after (pgbranch, plain). */
    private long[] storagePattern(int scale, String pattern, long branchBefore, long plainBefore,
            IntFunction<String> update, String what) {
        log("storage: " + STORAGE_BRANCHES + " branches vs " + STORAGE_BRANCHES + " copies, each updating a " + pattern
                + " 1% of pgbench_accounts (s=" + scale + ")");
        for (int i = 0; i < STORAGE_BRANCHES; i++) {
            String name = "storage/" + pattern + "/" + i;
            server.create(name, "development");
            Sql.execute("update 1% on " + name, awake(name), update.apply(i));
            server.rememberComputePids();
            server.stopCompute(name);
        }
        try (Connection c = admin().connect(); Statement s = c.createStatement()) {
            for (int i = 0; i < STORAGE_BRANCHES; i++) {
                String copy = "storage_" + pattern + "_" + i;
                s.execute("CREATE DATABASE " + copy + " TEMPLATE " + source(scale));
                Sql.execute("update 1% on " + copy, plain.endpoint(copy), update.apply(i));
            }
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            throw new BenchException("template copies for the storage figure failed: " + e.getMessage(), e);
        }
        DiskUsage.Usage branchUsage = pgbranchBytesAtRest();
        DiskUsage.Usage plainUsage = plainBytes();
        long branchAfter = branchUsage.data();
        long plainAfter = plainUsage.data();
        String how = "du -s -B1 -x without the write-ahead logs, pgbranch at rest (" + AT_REST + "), plain after a "
                + "CHECKPOINT; " + logs(branchUsage, plainUsage) + "; branch/copy i updates " + what
                + "; nothing deleted before measuring";
        add("storage_5_branches_" + pattern + "_total_s" + scale, branchAfter, plainAfter, "bytes",
                "pgbranch data directory after " + STORAGE_BRANCHES + " more branches of development, each updating a "
                        + pattern + " 1% of pgbench_accounts",
                "plain cluster after " + STORAGE_BRANCHES + " more template copies of src_s" + scale
                        + ", each with the same update", how);
        add("storage_5_branches_" + pattern + "_growth_s" + scale, branchAfter - branchBefore, plainAfter - plainBefore,
                "bytes", "growth of the pgbranch data directory for these " + STORAGE_BRANCHES + " branches",
                "growth of the plain cluster for these " + STORAGE_BRANCHES + " full copies",
                how + "; before: pgbranch " + branchBefore + ", plain " + plainBefore);
        return new long[] {branchAfter, plainAfter};
    }

    // ------------------------------------------------------------------------------ helpers

    private static final String AT_REST = "after a clean server stop: computes shut down, in-memory layers flushed, "
            + "ingest log trimmed; restarted afterwards";

    /**
     * Bytes of the pgbranch data directory at rest. While the server runs, data not yet flushed to
     * layer files lives only in the ingest log; a clean stop flushes it, so the directory without
     * its log counts every page version (see {@link DiskUsage.Usage} for why logs are apart).
     * Branch ports are stable, so endpoints stay valid across the restart.
     */
    private DiskUsage.Usage pgbranchBytesAtRest() {
        server.rememberComputePids();
        server.close();
        DiskUsage.Usage bytes = DiskUsage.of(server.dataDirectory(), server.dataDirectory().resolve("store").resolve("wal"));
        log("restarting pgbranch server after measuring its data directory at rest");
        server = PgbranchServer.start(options.launcher(), options.serverClasspath(), server.dataDirectory(),
                root.resolve("server.log"));
        cleanup.push("stop pgbranch server pid " + server.pid(), server::close);
        return bytes;
    }

    private DiskUsage.Usage plainBytes() {
        return DiskUsage.of(plain.dataDirectory(), plain.dataDirectory().resolve("pg_wal"));
    }

    private static String logs(DiskUsage.Usage pgbranch, DiskUsage.Usage plain) {
        return "write-ahead logs not counted: pgbranch ingest log " + pgbranch.writeAheadLog() + " bytes, plain pg_wal "
                + plain.writeAheadLog() + " bytes";
    }

    private Endpoint admin() {
        return plain.endpoint("postgres");
    }

    private static String source(int scale) {
        return "src_s" + scale;
    }

    private void checkpoint(Endpoint target) {
        Sql.execute("CHECKPOINT on " + target, target, "CHECKPOINT");
    }

    /**
     * One sample of branch creation to first result: creates {@code name} from development, then
     * connects through the proxy (waking its compute) and runs {@code SELECT 1}. Stores the
     * create call's time in {@code creates[i]} and the whole in {@code total[i]} (nanoseconds).
     */
    private void firstQuery(String name, String condition, long[] creates, long[] total, int i) {
        long t0 = System.nanoTime();
        server.create(name, "development");
        creates[i] = System.nanoTime() - t0;
        try (Connection c = connectWaking(name)) {
            Sql.selectOne(c);
            total[i] = System.nanoTime() - t0;
        } catch (SQLException e) {
            throw new BenchException("first query on new branch " + name + condition + " failed: " + e.getMessage(), e);
        }
        server.rememberComputePids();
    }

    /**
     * A connection to branch {@code name} the way a user gets one: the API's connection string; the
     * proxy wakes a suspended compute. A server built without the proxy hands out the compute's
     * own port, which refuses while it is stopped: then, like a user would, start it through the API.
     */
    private Connection connectWaking(String name) throws SQLException {
        Endpoint endpoint = server.connection(name);
        try {
            return endpoint.connect();
        } catch (SQLException e) {
            if (!"08001".equals(e.getSQLState())) {
                throw e;
            }
            server.startCompute(name);
            return endpoint.connect();
        }
    }

    /** {@code name}'s endpoint once it answers (woken as in {@link #connectWaking}). */
    private Endpoint awake(String name) {
        try (Connection c = connectWaking(name)) {
            Sql.selectOne(c);
        } catch (SQLException e) {
            throw new BenchException("branch " + name + " does not answer: " + e.getMessage(), e);
        }
        return server.connection(name);
    }

    /** Makes sure {@code name}'s compute runs (waking it as a user would) and the API says so. */
    private void ensureRunning(String name, Endpoint endpoint) {
        if (!"running".equals(server.show(name).path("computeState").asText())) {
            awake(name);
        }
        String state = server.show(name).path("computeState").asText();
        if (!"running".equals(state)) {
            throw new BenchException(name + "'s compute is " + state + " after a connection; expected running");
        }
    }

    /**
     * The settings of the pgbranch compute that come from its configuration file (initdb's and
     * pgbranch's), to give the plain cluster the same {@code postgresql.conf}.
     */
    private Map<String, String> copiedSettings(Endpoint development) {
        Map<String, String> settings = new LinkedHashMap<>();
        try (Connection c = development.connect(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT name, current_setting(name) FROM pg_settings "
                     + "WHERE source = 'configuration file' ORDER BY name")) {
            while (rs.next()) {
                if (!PER_CLUSTER_SETTINGS.contains(rs.getString(1))) {
                    settings.put(rs.getString(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            throw new BenchException("cannot read the settings of development's compute: " + e.getMessage(), e);
        }
        return settings;
    }

    private void recordSettings(Endpoint development) {
        String query = "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings "
                + "WHERE name IN (" + REPORTED_SETTINGS.stream().map(Sql::literal).collect(Collectors.joining(", ")) + ")";
        String branchSettings = Sql.queryText("settings of development", development, query);
        String plainSettings = Sql.queryText("settings of the plain cluster", admin(), query);
        String branchFsync = Sql.queryText("fsync of development", development, "SHOW fsync");
        String plainFsync = Sql.queryText("fsync of the plain cluster", admin(), "SHOW fsync");
        machine.put("postgresMajor", Sql.queryText("server_version_num", admin(), "SHOW server_version_num").substring(0, 2));
        machine.put("fsync", "pgbranch " + branchFsync + ", plain " + plainFsync);
        machine.put("pgbranchSettings", branchSettings);
        machine.put("plainSettings", plainSettings);
        machine.put("sameSettings", branchSettings.equals(plainSettings));
        report.machine(machine.snapshot());
        log("settings: pgbranch [" + branchSettings + "], plain [" + plainSettings + "]");
    }

    private void add(String name, double pgbranch, double reference, String unit, String pgbranchMeasures,
            String referenceMeasures, String details) {
        ResultRow row = ResultRow.of(name, pgbranch, reference, unit, pgbranchMeasures, referenceMeasures, details,
                machine.snapshot());
        report.add(row);
        log(String.format(Locale.ROOT, "RESULT %s: pgbranch %s, reference %s %s (ratio %.3f)", name,
                format(pgbranch), format(reference), unit, row.ratio()));
    }

    private static String format(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double middle = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return middle / 1e6;
    }

    private static String samples(long[] nanos) {
        return Arrays.stream(nanos).mapToObj(n -> String.format(Locale.ROOT, "%.1f", n / 1e6))
                .collect(Collectors.joining(", ", "[", "] ms"));
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    /** "4.21 (write 1.90, fsync 1.02, ...)": requests per transaction over one run, largest first. */
    private static String fusePerTransaction(Map<String, Long> before, Map<String, Long> after, double transactions) {
        if (after.isEmpty() || transactions <= 0) {
            return "not reported";
        }
        List<Map.Entry<String, Long>> deltas = after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .toList();
        long total = deltas.stream().mapToLong(Map.Entry::getValue).sum();
        return String.format(Locale.ROOT, "%.2f (%s)", total / transactions, deltas.stream()
                .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue() / transactions))
                .collect(Collectors.joining(", ")));
    }

    private static double meanTps(List<Pgbench.Run> runs) {
        return runs.stream().mapToDouble(Pgbench.Run::tps).average().orElseThrow();
    }

    private static String describe(List<Pgbench.Run> runs) {
        return runs.stream().map(r -> String.format(Locale.ROOT, "%.1f tps / %.3f ms", r.tps(), r.latencyMillis()))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private void log(String message) {
        progress.log(message);
    }

    private static String randomPassword() {
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** The highest-versioned {@code /usr/lib/postgresql/<version>/bin} with a server: what pgbranch's computes run too. */
    private static Path postgresBin() {
        Path root = Path.of("/usr/lib/postgresql");
        try (Stream<Path> versions = Files.list(root)) {
            return versions.filter(p -> p.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                    .sorted(Comparator.comparingDouble((Path p) -> Double.parseDouble(p.getFileName().toString())).reversed())
                    .map(p -> p.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("postgres")) && Files.isExecutable(b.resolve("initdb"))
                            && Files.isExecutable(b.resolve("pgbench")))
                    .findFirst()
                    .orElseThrow(() -> new BenchException("no PostgreSQL with pgbench under " + root));
        } catch (IOException e) {
            throw new BenchException("cannot list " + root + ": install the postgresql package", e);
        }
    }

    /** Which pgbranch was measured: the commit, uncommitted changes, and the server jar the launcher runs. */
    private String describeBuild() {
        Path repository = options.launcher().getParent();
        Commands.Result head = Commands.run(List.of("git", "-C", repository.toString(), "rev-parse", "--short", "HEAD"),
                Map.of(), repository, Duration.ofSeconds(30));
        Commands.Result dirty = Commands.run(List.of("git", "-C", repository.toString(), "status", "--porcelain"),
                Map.of(), repository, Duration.ofSeconds(30));
        String build = head.succeeded() ? "commit " + head.output().strip()
                + (dirty.succeeded() && !dirty.output().isBlank() ? " + uncommitted changes" : "") : "not a git checkout";
        if (options.serverClasspath() != null) {
            return build + ", server classes from --server-classpath";
        }
        try (Stream<Path> jars = Files.list(repository.resolve("pageserver").resolve("target"))) {
            return build + jars.filter(j -> j.getFileName().toString().matches("pageserver-.*\\.jar"))
                    .map(j -> {
                        try {
                            return ", server jar " + j.getFileName() + " built " + Files.getLastModifiedTime(j);
                        } catch (IOException e) {
                            return ", server jar " + j.getFileName();
                        }
                    })
                    .findFirst().orElse(", no server jar yet (the launcher builds it)");
        } catch (IOException e) {
            return build + ", no server jar yet (the launcher builds it)";
        }
    }

    private void keepLogs(Path root) {
        for (String log : List.of("server.log", "plain-run/postgres.log")) {
            Path file = root.resolve(log);
            if (Files.exists(file)) {
                try {
                    Files.copy(file, report.directory().resolve(log.replace('/', '-')), StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    log("cannot keep " + file + ": " + e.getMessage());
                }
            }
        }
    }

    private void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        List<String> mounts = PgbranchServer.unmountLeftovers(root);
        if (!mounts.isEmpty()) {
            log("unmounted leftover mounts: " + mounts);
        }
        if (!PgbranchServer.mountsUnder(root).isEmpty()) {
            log("not deleting " + root + ": still mounted " + PgbranchServer.mountsUnder(root));
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log("cannot delete " + root + ": " + e.getMessage());
        }
    }
}
