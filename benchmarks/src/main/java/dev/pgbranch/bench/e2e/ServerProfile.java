package dev.pgbranch.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the time of the slowest path goes: pgbench TPC-B on a branch through the proxy (the
 * user's path), with a JFR recording of the server JVM (started and dumped with {@code jcmd},
 * so the server needs no special option) and the CPU time of every process and server thread
 * involved, read from {@code /proc} every 500 ms over the run: server JVM threads grouped by
 * name, the compute's client backends and auxiliary processes, pgbench, the rest of the machine
 * and idle. Writes {@code profile.md} and {@code server.jfr} into the run's directory.
 *
 * <p>CPU times are {@code utime + stime} in clock ticks of 10 ms (USER_HZ = 100 on Linux);
 * kernel time spent serving a backend's FUSE request is charged to that backend's system time,
 * the server's own handling of it to the FUSE threads of the JVM.
 *
 * <p>Thread-safety: one run on the driver thread (a virtual thread samples /proc).
 */
final class ServerProfile {

    private static final double TICK_SECONDS = 0.01;
    private static final String RECORDING = "pgbranch-bench-profile";

    private final PgbranchServer server;
    private final Pgbench pgbench;
    private final Report report;
    private final Consumer<String> log;

    ServerProfile(PgbranchServer server, Pgbench pgbench, Report report, Consumer<String> log) {
        this.server = server;
        this.pgbench = pgbench;
        this.report = report;
        this.log = log;
    }

    /** CPU ticks of one process or thread: first and last seen, user and system. */
    static final class Ticks {
        final String group;
        long firstUser = -1;
        long firstSystem;
        long lastUser;
        long lastSystem;

        Ticks(String group) {
            this.group = group;
        }

        void see(long user, long system, boolean bornInWindow) {
            if (firstUser < 0) {
                firstUser = bornInWindow ? 0 : user;
                firstSystem = bornInWindow ? 0 : system;
            }
            lastUser = user;
            lastSystem = system;
        }

        long user() {
            return lastUser - firstUser;
        }

        long system() {
            return lastSystem - firstSystem;
        }
    }

    /** Profiles a TPC-B run on a new branch of development, loaded at {@code scale}. */
    void run(int scale, BenchOptions options) {
        String name = "profile/tpcb";
        server.create(name, "development");
        Endpoint branch = server.connection(name);
        String port;
        try (var c = branch.connect()) {
            port = Sql.queryText(c, "SHOW port");
        } catch (java.sql.SQLException e) {
            throw new BenchException("branch " + name + " does not answer: " + e.getMessage(), e);
        }
        JsonNode shown = server.show(name);
        long computePid = shown.path("computePid").asLong(0);
        if (computePid == 0) {
            throw new BenchException("the API shows no compute pid for " + name + ": " + shown);
        }
        Endpoint compute = new Endpoint(branch.host(), Integer.parseInt(port), branch.user(), branch.password(),
                branch.database(), branch.parameters());
        Path jfr = report.directory().resolve("server.jfr");
        jcmd("JFR.start", "name=" + RECORDING, "settings=profile");
        Window proxied = measure("through the proxy (JFR recording)", branch, computePid, options);
        jcmd("JFR.dump", "name=" + RECORDING, "filename=" + jfr);
        jcmd("JFR.stop", "name=" + RECORDING);
        Window direct = measure("straight to the compute's port (no proxy, no JFR)", compute, computePid, options);
        server.rememberComputePids();
        server.delete(name);

        String markdown = render(scale, options, proxied, direct, jfr);
        try {
            Files.writeString(report.directory().resolve("profile.md"), markdown, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BenchException("cannot write profile.md: " + e.getMessage(), e);
        }
        report.note(String.format(Locale.ROOT, "profile: pgbench TPC-B at scale %d, %.0f tps through the proxy, %.0f tps "
                + "straight to the compute; CPU split and JFR hot methods in profile.md, recording in server.jfr", scale,
                proxied.tps(), direct.tps()));
        log.accept("profile written: " + report.directory().resolve("profile.md"));
    }

    /** One pgbench window: its throughput and the CPU ticks of everything involved. */
    record Window(String path, double tps, double seconds, Map<String, Ticks> ticks, long busy, long idle) {

        double transactions(BenchOptions options) {
            return tps * options.seconds();
        }
    }

    private Window measure(String path, Endpoint target, long computePid, BenchOptions options) {
        log.accept("profile: pgbench TPC-B -c " + options.clients() + " -j " + options.threads() + " -T " + options.seconds()
                + " " + path + ", /proc sampled every 500 ms");
        Map<String, Ticks> ticks = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        long[] first;
        long[] last;
        double tps;
        try (Pgbench.Load load = pgbench.startLoad(target, options.clients(), options.threads(), options.seconds())) {
            first = machineTicks();
            sample(ticks, computePid, load.pid(), false);
            while (load.isAlive()) {
                PgbranchServer.sleep(500);
                sample(ticks, computePid, load.pid(), true);
            }
            last = machineTicks();
            tps = load.meanTps();
        }
        log.accept(String.format(Locale.ROOT, "profile:   %.0f tps %s", tps, path));
        return new Window(path, tps, (System.nanoTime() - t0) / 1e9, ticks, last[0] - first[0], last[1] - first[1]);
    }

    private java.sql.Connection connect(String name) throws java.sql.SQLException {
        return server.connection(name).connect();
    }

    private void jcmd(String... command) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        List<String> argv = new ArrayList<>(List.of(jcmd.toString(), Long.toString(server.pid())));
        argv.addAll(List.of(command));
        Commands.check("jcmd " + command[0] + " on the server", argv, Map.of(), Path.of("/"), Duration.ofMinutes(2));
    }

    // ------------------------------------------------------------------------------ /proc

    private void sample(Map<String, Ticks> ticks, long computePid, long pgbenchPid, boolean inWindow) {
        Path serverTasks = Path.of("/proc", Long.toString(server.pid()), "task");
        try (Stream<Path> tasks = Files.list(serverTasks)) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                readInto(ticks, "server " + task.getFileName(), task.resolve("stat"), inWindow,
                        () -> "pgbranch server: " + threadGroup(read(task.resolve("comm"))));
            }
        } catch (IOException e) {
            // the server went away: the run fails elsewhere
        }
        List<ProcessHandle> compute = new ArrayList<>();
        ProcessHandle.of(computePid).ifPresent(h -> {
            compute.add(h);
            h.descendants().forEach(compute::add);
        });
        for (ProcessHandle h : compute) {
            Path proc = Path.of("/proc", Long.toString(h.pid()));
            readInto(ticks, "compute " + h.pid(), proc.resolve("stat"), inWindow,
                    () -> "postgres compute: " + postgresRole(read(proc.resolve("cmdline")).replace('\0', ' ')));
        }
        readInto(ticks, "pgbench", Path.of("/proc", Long.toString(pgbenchPid), "stat"), inWindow, () -> "pgbench");
    }

    private static void readInto(Map<String, Ticks> ticks, String key, Path stat, boolean inWindow,
            java.util.function.Supplier<String> group) {
        long[] ut = processTicks(read(stat));
        if (ut == null) {
            return;
        }
        Ticks t = ticks.get(key);
        boolean born = false;
        if (t == null) {
            t = new Ticks(group.get());
            ticks.put(key, t);
            born = inWindow;
        }
        t.see(ut[0], ut[1], born);
    }

    /** utime and stime of a {@code /proc/.../stat} line, or null if unreadable. */
    static long[] processTicks(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return null;
        }
        String[] f = stat.substring(close + 2).trim().split(" ");
        if (f.length < 13) {
            return null;
        }
        // After "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    }

    /** Busy and idle ticks of the whole machine ({@code cpu} line of /proc/stat). */
    static long[] machineTicks(String procStat) {
        for (String line : procStat.split("\n")) {
            if (line.startsWith("cpu ")) {
                String[] f = line.trim().split("\\s+");
                long busy = 0;
                long idle = 0;
                for (int i = 1; i < Math.min(f.length, 9); i++) {
                    long v = Long.parseLong(f[i]);
                    if (i == 4 || i == 5) {
                        idle += v;
                    } else {
                        busy += v;
                    }
                }
                return new long[] {busy, idle};
            }
        }
        throw new BenchException("no cpu line in /proc/stat");
    }

    private static long[] machineTicks() {
        return machineTicks(read(Path.of("/proc/stat")));
    }

    /** A server thread's group: its name with numbers replaced by '#' (pools and event loops fold into one). */
    static String threadGroup(String comm) {
        return comm.strip().replaceAll("[0-9]+", "#");
    }

    /** A postgres process's role from its title: client backend, or the auxiliary process's name. */
    static String postgresRole(String title) {
        String t = title.strip();
        if (!t.startsWith("postgres: ")) {
            return "postmaster";
        }
        String rest = t.substring("postgres: ".length());
        if (rest.matches(".*\\d+\\.\\d+\\.\\d+\\.\\d+\\(\\d+\\).*") || rest.contains("[local]")) {
            return "client backends";
        }
        return rest.replaceAll("[0-9/]+", "").replace("process", "").strip();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    // ------------------------------------------------------------------------------ report

    private String render(int scale, BenchOptions options, Window proxied, Window direct, Path jfr) {
        int cpus = Runtime.getRuntime().availableProcessors();
        StringBuilder md = new StringBuilder("# Profile: pgbench TPC-B through the proxy\n\n");
        md.append(String.format(Locale.ROOT, "pgbench TPC-B -c %d -j %d -T %d at scale %d on one branch, %d CPUs. Through "
                + "the proxy (the user's path): %.0f tps, %.0f%% of the machine busy. Straight to the same compute's port: "
                + "%.0f tps, %.0f%% busy. CPU µs / transaction = CPU-seconds / (tps x -T). CPU times are utime + stime "
                + "from /proc (user and system split below); kernel time serving a backend's FUSE request is charged to "
                + "the backend, the server's handling of it to its FUSE threads.%n%n", options.clients(), options.threads(),
                options.seconds(), scale, cpus, proxied.tps(), 100.0 * proxied.busy() / Math.max(1, proxied.busy()
                        + proxied.idle()), direct.tps(), 100.0 * direct.busy() / Math.max(1, direct.busy() + direct.idle())));
        Map<String, long[]> proxiedRoles = roles(proxied);
        Map<String, long[]> directRoles = roles(direct);
        md.append("## CPU by role, both paths\n\n| who | proxy: CPU s | proxy: % of machine | proxy: µs / txn "
                + "| direct: CPU s | direct: % of machine | direct: µs / txn |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        List<String> order = new ArrayList<>(proxiedRoles.keySet());
        directRoles.keySet().stream().filter(k -> !order.contains(k)).forEach(order::add);
        order.sort(Comparator.comparingLong((String k) -> sum(proxiedRoles.get(k))).reversed());
        for (String who : order) {
            md.append("| ").append(who).append(cells(proxiedRoles.get(who), proxied, options))
                    .append(cells(directRoles.get(who), direct, options)).append(" |\n");
        }
        md.append(String.format(Locale.ROOT, "| idle (incl. iowait) | %.1f | %.1f%% | | %.1f | %.1f%% | |%n%n",
                proxied.idle() * TICK_SECONDS, 100.0 * proxied.idle() / Math.max(1, proxied.busy() + proxied.idle()),
                direct.idle() * TICK_SECONDS, 100.0 * direct.idle() / Math.max(1, direct.busy() + direct.idle())));
        md.append("## Through the proxy: CPU by process and server thread (thread names as the kernel keeps them, "
                + "15 characters, digits folded to #)\n\n");
        md.append(cpuTable(groups(proxied), proxied.busy() + proxied.idle(), proxied.transactions(options), true));
        md.append(jfrSummary(jfr));
        md.append("\nReproduce: `scripts/bench --profile` (options: `--scales N --seconds N --clients N --threads N`); "
                + "open server.jfr in JDK Mission Control or run `jfr view hot-methods server.jfr`.\n");
        return md.toString();
    }

    private static Map<String, long[]> groups(Window w) {
        Map<String, long[]> groups = new LinkedHashMap<>();
        for (Ticks t : w.ticks().values()) {
            long[] g = groups.computeIfAbsent(t.group, k -> new long[2]);
            g[0] += t.user();
            g[1] += t.system();
        }
        return groups;
    }

    private static Map<String, long[]> roles(Window w) {
        Map<String, long[]> roles = new LinkedHashMap<>();
        long accounted = 0;
        for (Map.Entry<String, long[]> e : groups(w).entrySet()) {
            long[] r = roles.computeIfAbsent(role(e.getKey()), k -> new long[2]);
            r[0] += e.getValue()[0];
            r[1] += e.getValue()[1];
            accounted += sum(e.getValue());
        }
        roles.put("rest of the machine (kernel threads, plain cluster idle, other jobs)",
                new long[] {Math.max(0, w.busy() - accounted), 0});
        return roles;
    }

    private static long sum(long[] userSystem) {
        return userSystem == null ? 0 : userSystem[0] + userSystem[1];
    }

    private static String cells(long[] userSystem, Window w, BenchOptions options) {
        long ticks = sum(userSystem);
        double transactions = w.transactions(options);
        return String.format(Locale.ROOT, " | %.1f | %.1f%% | %s", ticks * TICK_SECONDS,
                100.0 * ticks / Math.max(1, w.busy() + w.idle()),
                transactions > 0 ? String.format(Locale.ROOT, "%.0f", ticks * TICK_SECONDS * 1e6 / transactions) : "n/a");
    }

    private static String cpuTable(Map<String, long[]> rows, long total, double transactions, boolean skipZero) {
        StringBuilder md = new StringBuilder("| who | CPU s | % of machine | user s | system s | CPU µs / transaction |\n"
                + "| --- | ---: | ---: | ---: | ---: | ---: |\n");
        rows.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, long[]> e) -> e.getValue()[0] + e.getValue()[1]).reversed())
                .filter(e -> !skipZero || e.getValue()[0] + e.getValue()[1] > 0)
                .forEach(e -> {
                    long user = e.getValue()[0];
                    long system = e.getValue()[1];
                    md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f%% | %.1f | %.1f | %.0f |%n", e.getKey(),
                            (user + system) * TICK_SECONDS, 100.0 * (user + system) / Math.max(1, total),
                            user * TICK_SECONDS, system * TICK_SECONDS,
                            transactions > 0 ? (user + system) * TICK_SECONDS * 1e6 / transactions : Double.NaN));
                });
        return md.append('\n').toString();
    }

    /**
     * What a process or server thread group does: the proxy's Netty event loops, the FUSE
     * threads, the engine's own threads, the JVM's JIT/GC, the compute's backends and its
     * auxiliary processes, pgbench.
     */
    static String role(String group) {
        if (group.startsWith("pgbranch server: ")) {
            String thread = group.substring("pgbranch server: ".length());
            if (thread.startsWith("multiThreadIo") || thread.contains("EventLoop") || thread.startsWith("epoll")) {
                return "server: wire proxy (Netty event loops)";
            }
            if (thread.startsWith("jfuse") || thread.startsWith("fuse")) {
                return "server: FUSE request threads (page reads/writes, fsync of the compute's files)";
            }
            if (thread.startsWith("pgbranch-")) {
                return "server: engine background threads (log writer, layer flusher, compactor, ...)";
            }
            if (thread.contains("Compiler") || thread.startsWith("GC") || thread.startsWith("G#") || thread.startsWith("VM")) {
                return "server: JVM (JIT compilers, GC, VM thread)";
            }
            if (thread.startsWith("JFR")) {
                return "server: JFR recording itself";
            }
            return "server: other threads";
        }
        if (group.equals("postgres compute: client backends")) {
            return "compute: client backends (SQL + their I/O system calls into FUSE)";
        }
        if (group.startsWith("postgres compute")) {
            return "compute: auxiliary processes (walwriter, checkpointer, ...)";
        }
        return group;
    }

    /** Execution samples of the recording by thread group, by subsystem and by top frame. */
    static String jfrSummary(Path jfr) {
        Map<String, Long> byThread = new HashMap<>();
        Map<String, Long> bySubsystem = new HashMap<>();
        Map<String, Long> byMethod = new HashMap<>();
        Map<String, Long> byPgbranchMethod = new HashMap<>();
        long samples = 0;
        try (RecordingFile file = new RecordingFile(jfr)) {
            while (file.hasMoreEvents()) {
                RecordedEvent e = file.readEvent();
                if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                    continue;
                }
                RecordedStackTrace stack = e.getStackTrace();
                if (stack == null || stack.getFrames().isEmpty()) {
                    continue;
                }
                samples++;
                var thread = e.getThread("sampledThread");
                String threadName = thread == null || thread.getJavaName() == null ? "?" : thread.getJavaName();
                byThread.merge(threadGroup(threadName), 1L, Long::sum);
                RecordedFrame top = stack.getFrames().getFirst();
                byMethod.merge(method(top), 1L, Long::sum);
                bySubsystem.merge(subsystem(stack.getFrames()), 1L, Long::sum);
                stack.getFrames().stream().filter(f -> f.getMethod().getType().getName().startsWith("dev.pgbranch."))
                        .findFirst().ifPresent(f -> byPgbranchMethod.merge(method(f), 1L, Long::sum));
            }
        } catch (IOException e) {
            return "JFR recording unreadable: " + e.getMessage() + "\n";
        }
        StringBuilder md = new StringBuilder("## JFR execution samples (server JVM, Java code on CPU)\n\n");
        md.append(samples).append(" samples (profile settings: Java code sampled every 10 ms per thread; time in "
                + "system calls and native code, e.g. the proxy's socket I/O and FUSE's /dev/fuse reads, is not a Java "
                + "sample: the /proc split above is the primary figure, this says which Java code runs).\n\n");
        md.append(table("thread group", byThread, samples, 12));
        md.append(table("subsystem (first pgbranch frame from the top, else the top frame's package)", bySubsystem, samples, 12));
        md.append(table("first pgbranch frame from the top (the pgbranch code on whose behalf the CPU ran)",
                byPgbranchMethod, samples, 15));
        md.append(table("top frame", byMethod, samples, 25));
        return md.toString();
    }

    private static String table(String title, Map<String, Long> counts, long total, int limit) {
        StringBuilder md = new StringBuilder("| " + title + " | samples | % |\n| --- | ---: | ---: |\n");
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(limit)
                .forEach(e -> md.append(String.format(Locale.ROOT, "| %s | %d | %.1f%% |%n", e.getKey().replace("|", "\\|"),
                        e.getValue(), 100.0 * e.getValue() / Math.max(1, total))));
        return md.append('\n').toString();
    }

    private static String method(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    /** {@code dev.pgbranch.proxy}, {@code dev.pgbranch.pageserver.fuse}, ... or the top frame's package. */
    static String subsystem(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String type = f.getMethod().getType().getName();
            if (type.startsWith("dev.pgbranch.")) {
                return packageOf(type);
            }
        }
        return packageOf(frames.getFirst().getMethod().getType().getName()) + " (no pgbranch frame)";
    }

    private static String packageOf(String type) {
        int dot = type.lastIndexOf('.');
        return dot < 0 ? type : type.substring(0, dot);
    }
}
