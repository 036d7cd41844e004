package dev.pgbranch.pageserver.compute;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL server binaries computes run: the highest version under
 * {@code /usr/lib/postgresql/<version>/bin} (the Debian/Ubuntu layout, present on a fresh CI
 * machine), else the directory {@code pg_config --bindir} names. {@code /usr/local/bin} and
 * {@code PATH} are deliberately not searched: they hold wrappers that vary per machine.
 *
 * <p>Thread-safety: immutable.
 */
public final class PostgresInstallation {

    private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");

    private final Path binDirectory;
    private final String version;
    private final int majorVersion;

    private PostgresInstallation(Path binDirectory, String version, int majorVersion) {
        this.binDirectory = binDirectory;
        this.version = version;
        this.majorVersion = majorVersion;
    }

    /** Finds the installation as described in the class comment. */
    public static PostgresInstallation detect() throws ComputeException {
        List<Path> candidates = new ArrayList<>();
        if (Files.isDirectory(DEBIAN_ROOT)) {
            try (var versions = Files.list(DEBIAN_ROOT)) {
                versions.filter(p -> p.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                        .sorted(Comparator.comparingDouble((Path p) -> Double.parseDouble(p.getFileName().toString()))
                                .reversed())
                        .map(p -> p.resolve("bin"))
                        .forEach(candidates::add);
            } catch (IOException e) {
                throw new ComputeException("cannot list " + DEBIAN_ROOT + ": " + e.getMessage(), e);
            }
        }
        for (Path bin : candidates) {
            if (Files.isExecutable(bin.resolve("postgres")) && Files.isExecutable(bin.resolve("initdb"))) {
                return at(bin);
            }
        }
        try {
            ProcessRunner.Result result = ProcessRunner.run(List.of("pg_config", "--bindir"), Duration.ofSeconds(10));
            if (result.succeeded()) {
                return at(Path.of(result.output().strip()));
            }
        } catch (IOException e) {
            // no pg_config on PATH: fall through to the error below
        }
        throw new ComputeException("no PostgreSQL server found: install the postgresql package "
                + "(looked in " + DEBIAN_ROOT + "/*/bin and pg_config --bindir)");
    }

    /** The installation whose {@code postgres}, {@code initdb}, {@code pg_ctl} are in {@code binDirectory}. */
    public static PostgresInstallation at(Path binDirectory) throws ComputeException {
        for (String tool : List.of("postgres", "initdb", "pg_ctl", "psql", "pg_isready")) {
            if (!Files.isExecutable(binDirectory.resolve(tool))) {
                throw new ComputeException(binDirectory.resolve(tool) + " is missing or not executable");
            }
        }
        ProcessRunner.Result result;
        try {
            result = ProcessRunner.run(List.of(binDirectory.resolve("postgres").toString(), "--version"),
                    Duration.ofSeconds(10));
        } catch (IOException e) {
            throw new ComputeException("cannot run " + binDirectory.resolve("postgres") + ": " + e.getMessage(), e);
        }
        Matcher matcher = VERSION.matcher(result.output());
        if (!result.succeeded() || !matcher.find()) {
            throw new ComputeException("unexpected output of postgres --version: " + result.output().strip());
        }
        return new PostgresInstallation(binDirectory, result.output().strip(), Integer.parseInt(matcher.group(1)));
    }

    public Path binDirectory() {
        return binDirectory;
    }

    /** e.g. {@code postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)}. */
    public String version() {
        return version;
    }

    /** e.g. 15. */
    public int majorVersion() {
        return majorVersion;
    }

    public Path tool(String name) {
        return binDirectory.resolve(name);
    }

    @Override
    public String toString() {
        return version + " in " + binDirectory;
    }
}
