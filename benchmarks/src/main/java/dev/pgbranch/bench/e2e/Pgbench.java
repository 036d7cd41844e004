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

    private static double parse(Pattern pattern, String output, String what) {
        Matcher m = pattern.matcher(output);
        if (!m.find()) {
            throw new BenchException("no '" + what + "' in pgbench output:\n" + output);
        }
        return Double.parseDouble(m.group(1));
    }
}
