package dev.pgbranch.bench.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pgbench} of the Postgres installation, run against an {@link Endpoint} exactly as a
 * user would (a libpq connection string; the password in {@code PGPASSWORD}).
 *
 * <p>Thread-safety: stateless apart from immutable fields.
 */
final class Pgbench {

    /** PG 15 prints {@code tps = 1234.567890 (without initial connection time)}. */
    private static final Pattern TPS = Pattern.compile("tps = ([0-9]+(?:\\.[0-9]+)?) \\(without initial connection time\\)");
    private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9]+(?:\\.[0-9]+)?) ms");

    private final Path pgbench;
    private final Path workDirectory;

    Pgbench(Path bin, Path workDirectory) {
        this.pgbench = bin.resolve("pgbench");
        this.workDirectory = workDirectory;
    }

    /** {@code pgbench -i -s scale --quiet}; returns the wall-clock time in nanoseconds. */
    long initialize(Endpoint target, int scale) {
        List<String> command = List.of(pgbench.toString(), "-i", "-s", Integer.toString(scale), "--quiet", target.libpqUri());
        return Commands.check("pgbench -i -s " + scale + " on " + target, command, target.libpqEnvironment(),
                workDirectory, Duration.ofHours(2)).nanos();
    }

    /** What one pgbench run reported. */
    record Run(double tps, double latencyMillis) {
    }

    /** {@code pgbench -c clients -j threads -T seconds [-S]}; the standard vacuum before the run is kept. */
    Run run(Endpoint target, int clients, int threads, int seconds, boolean selectOnly) {
        List<String> command = new ArrayList<>(List.of(pgbench.toString(), "-c", Integer.toString(clients),
                "-j", Integer.toString(threads), "-T", Integer.toString(seconds)));
        if (selectOnly) {
            command.add("-S");
        }
        command.add(target.libpqUri());
        Commands.Result result = Commands.check("pgbench " + (selectOnly ? "-S " : "") + "on " + target, command,
                target.libpqEnvironment(), workDirectory, Duration.ofSeconds(seconds * 4L + 600));
        return new Run(parse(TPS, result.output(), "tps"), parse(LATENCY, result.output(), "latency average"));
    }

    /**
     * Starts {@code pgbench -c clients -j threads -T seconds -P 1} in the background: load on
     * {@code target} while something else is measured. Its per-second progress lines give the
     * load's throughput over the window it ran ({@link Load#meanTps}).
     */
    Load startLoad(Endpoint target, int clients, int threads, int seconds) {
        List<String> command = List.of(pgbench.toString(), "-c", Integer.toString(clients), "-j", Integer.toString(threads),
                "-T", Integer.toString(seconds), "-P", "1", target.libpqUri());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(workDirectory.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().keySet().removeIf(k -> k.startsWith("PG"));
        builder.environment().putAll(target.libpqEnvironment());
        try {
            return new Load(builder.start());
        } catch (java.io.IOException e) {
            throw new BenchException("cannot run " + pgbench + ": " + e.getMessage(), e);
        }
    }

    /**
     * A background pgbench; {@link #close} kills it (its output so far is kept).
     *
     * <p>Thread-safety: the output is collected by a virtual thread; the other methods are for the driver thread.
     */
    static final class Load implements AutoCloseable {

        private final Process process;
        private final StringBuffer output = new StringBuffer();
        private final Thread reader;

        private Load(Process process) {
            this.process = process;
            this.reader = Thread.ofVirtual().start(() -> {
                try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                        java.nio.charset.StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        output.append(line).append('\n');
                    }
                } catch (java.io.IOException e) {
                    // the process went away: what was read is kept
                }
            });
        }

        long pid() {
            return process.pid();
        }

        boolean isAlive() {
            return process.isAlive();
        }

        /** Waits until pgbench has reported {@code lines} progress lines (its clients are connected and running). */
        void awaitProgress(int lines, java.time.Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (progressTps(output.toString()).size() < lines) {
                if (!process.isAlive()) {
                    throw new BenchException("background pgbench exited early: " + output);
                }
                if (System.nanoTime() > deadline) {
                    throw new BenchException("background pgbench reported no progress within " + timeout + ": " + output);
                }
                PgbranchServer.sleep(50);
            }
        }

        /** Mean of the per-second throughputs pgbench reported so far; NaN if none. */
        double meanTps() {
            return progressTps(output.toString()).stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        String output() {
            return output.toString();
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                }
                reader.join(java.time.Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** PG 15 {@code -P} lines: {@code progress: 3.0 s, 2345.6 tps, lat 1.703 ms stddev 0.912, 0 failed}. */
    private static final Pattern PROGRESS = Pattern.compile("(?m)^progress: [0-9.]+ s, ([0-9]+(?:\\.[0-9]+)?) tps");

    /** The tps of each progress line of {@code output}, in order. */
    static List<Double> progressTps(String output) {
        List<Double> tps = new ArrayList<>();
        Matcher m = PROGRESS.matcher(output);
        while (m.find()) {
            tps.add(Double.parseDouble(m.group(1)));
        }
        return tps;
    }

    private static double parse(Pattern pattern, String output, String what) {
        Matcher m = pattern.matcher(output);
        if (!m.find()) {
            throw new BenchException("no '" + what + "' in pgbench output:\n" + output);
        }
        return Double.parseDouble(m.group(1));
    }
}
