package dev.pgbranch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Side-by-side measurements in one run (enable with {@code -Dpgbranch.bench=true}): pgbench -S and
 * pgbench -C direct to the compute, through a branch port, and through the routing port with TLS; and
 * the time from a connection attempt on a suspended branch to its first result. Prints a table; asserts
 * only that every run completed.
 */
@Tag("integration")
@EnabledIfSystemProperty(named = "pgbranch.bench", matches = "true")
class ProxyBenchmarkTest {

    private static final int SECONDS = Integer.getInteger("pgbranch.bench.seconds", 15);

    @Test
    void pgbenchDirectVersusThroughTheProxyAndWakeLatency() throws Exception {
        try (PostgresBranches pg = new PostgresBranches()) {
            pg.create("bench");
            pg.start("bench");
            try (PgProxy proxy = new PgProxy(ProxyConfig.defaults(0), pg).start()) {
                int direct = pg.compute("bench").port;
                int branchPort = proxy.openBranchPort("bench", 0);
                int routing = proxy.routingPort();
                pgbench(direct, Map.of(), "-i", "-s", "10", "-q");
                List<String> report = new ArrayList<>();
                record Path3(String name, int port, Map<String, String> env) {
                }
                List<Path3> paths = List.of(
                        new Path3("direct", direct, Map.of("PGSSLMODE", "disable")),
                        new Path3("proxy, branch port", branchPort, Map.of("PGSSLMODE", "disable")),
                        new Path3("proxy, routing port + TLS", routing, Map.of("PGSSLMODE", "require", "PGOPTIONS", "branch=bench")));
                // Two rounds, the second in reverse order, so drift in machine load hits every path alike.
                for (String mode : List.of("-S", "-C")) {
                    String[] args = mode.equals("-S")
                            ? new String[] {"-S", "-c", "8", "-j", "2", "-T", String.valueOf(SECONDS)}
                            : new String[] {"-S", "-C", "-c", "4", "-j", "2", "-T", String.valueOf(SECONDS)};
                    for (int round = 0; round < 2; round++) {
                        List<Path3> order = round == 0 ? paths : paths.reversed();
                        for (Path3 path : order) {
                            report.add(row(mode + " r" + (round + 1), path.name(), pgbench(path.port(), path.env(), args)));
                        }
                    }
                }
                List<Long> wakes = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    pg.suspend("bench");
                    long t0 = System.nanoTime();
                    try (Connection c = PgProxyIntegrationTest.jdbc(branchPort, "postgres")) {
                        assertEquals(direct, PgProxyIntegrationTest.serverPort(c));
                    }
                    wakes.add((System.nanoTime() - t0) / 1_000_000);
                }
                List<Long> warm = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    long t0 = System.nanoTime();
                    try (Connection c = PgProxyIntegrationTest.jdbc(branchPort, "postgres")) {
                        PgProxyIntegrationTest.serverPort(c);
                    }
                    warm.add((System.nanoTime() - t0) / 1_000_000);
                }
                System.out.println("==== proxy benchmark (" + SECONDS + " s per pgbench run, scale 10, PG "
                        + pg.bin().getParent().getFileName() + ", fsync=off, 127.0.0.1) ====");
                report.forEach(System.out::println);
                System.out.println("wake from suspended to first result (pgjdbc, 5 runs, ms): " + wakes);
                System.out.println("same with the compute running (ms): " + warm);
            }
        }
    }

    private static String row(String mode, String path, List<String> out) {
        return String.format("%-6s %-28s %s", mode, path, String.join(" | ", out));
    }

    private static List<String> pgbench(int port, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p", String.valueOf(port),
                "-U", PostgresBranches.USER));
        cmd.addAll(Arrays.asList(args));
        cmd.add("postgres");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", PostgresBranches.PASSWORD);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("pgbench", ".out");
        try {
            Process p = pb.redirectOutput(out.toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("pgbench timed out");
            }
            List<String> lines = Files.readAllLines(out);
            assertEquals(0, p.exitValue(), String.join("\n", lines));
            return lines.stream().filter(l -> l.startsWith("tps =") || l.contains("latency average")
                    || l.contains("connection time")).map(String::trim).toList();
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
