package dev.pgbranch.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The driver's quick path on a tiny scale (pgbench -s 1, -T 3) against a real pgbranch server
 * (through the ./pgbranch launcher, on this build's classes) and a real plain cluster: results.json is well-formed, every
 * expected row is there with positive values, and nothing the driver started is left behind.
 */
@Tag("integration")
class EndToEndBenchmarkTest {

    /** Every row a run at scale 1 with all groups must produce; written here, not derived from the driver. */
    private static final List<String> EXPECTED_ROWS = List.of(
            "pgbench_init_s1",
            "storage_after_load_s1",
            "branch_create_parent_running_s1",
            "branch_create_parent_stopped_s1",
            "branch_create_vs_pg_ctl_start_s1",
            "first_query_s1",
            "first_query_vs_pg_ctl_start_s1",
            "first_query_under_load_s1",
            "first_query_under_load_vs_pg_ctl_start_s1",
            "reset_s1",
            "tps_tpcb_s1",
            "tps_tpcb_direct_s1",
            "tps_select_only_s1",
            "tps_select_only_direct_s1",
            "tps_tpcb_routing_s1",
            "tps_select_only_routing_s1",
            "storage_5_branches_range_total_s1",
            "storage_5_branches_range_growth_s1",
            "storage_5_branches_strided_total_s1",
            "storage_5_branches_strided_growth_s1",
            "data_diff_1pct_8mb",
            "data_diff_fallback_8mb",
            "cli_connect", "cli_branch_list", "cli_branch_create");

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void quickRunOnScaleOneWritesEveryRowWithPositiveFiguresAndCleansUp(@TempDir Path output) throws IOException {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        // The launcher runs the server from this test's classpath (pageserver is a test dependency),
        // so the test measures the pageserver of this build, not whatever jar pageserver/target holds.
        // JMH has a run of its own (scripts/bench --only jmh); its parsing and report are unit-tested.
        BenchOptions options = BenchOptions.parse("--quick", "--skip", "jmh", "--scales", "1", "--seconds", "3",
                "--data-diff-mb", "8",
                "--output", output.toString(),
                "--server-classpath", System.getProperty("java.class.path"), "--note", "integration test");
        Path runDirectory;
        EndToEndBenchmark bench;
        try (PrintStream log = new PrintStream(progress, true, StandardCharsets.UTF_8)) {
            bench = new EndToEndBenchmark(options, new TeeStream(log, System.out));
            runDirectory = bench.run();
        }

        JsonNode results = new ObjectMapper().readTree(runDirectory.resolve("results.json").toFile());
        assertEquals("ok", results.path("status").asText(), results.path("error").asText());
        assertEquals("quick", results.path("mode").asText());
        Set<String> names = new HashSet<>();
        for (JsonNode row : results.path("results")) {
            String name = row.path("name").asText();
            assertTrue(names.add(name), "row " + name + " twice");
            for (String field : List.of("pgbranch", "reference", "ratio")) {
                assertTrue(row.path(field).isNumber() && row.path(field).asDouble() > 0,
                        name + "." + field + " must be a positive number: " + row);
            }
            assertEquals(row.path("pgbranch").asDouble() / row.path("reference").asDouble(), row.path("ratio").asDouble(),
                    1e-9, name + ": ratio = pgbranch / reference");
            assertTrue(List.of("ms", "s", "tps", "bytes").contains(row.path("unit").asText()), name + " unit: " + row);
            for (String field : List.of("pgbranchMeasures", "referenceMeasures", "details")) {
                assertFalse(row.path(field).asText().isBlank(), name + "." + field + " is empty");
            }
            JsonNode conditions = row.path("conditions");
            assertEquals(Runtime.getRuntime().availableProcessors(), conditions.path("nproc").asInt(), name);
            assertTrue(conditions.path("ramBytes").asLong() > 0, name + " RAM");
            assertFalse(conditions.path("kernel").asText().isBlank(), name + " kernel");
            assertTrue(conditions.path("postgres").asText().contains("PostgreSQL"), name + " PG version");
            assertEquals("pgbranch on, plain on", conditions.path("fsync").asText(), name + " fsync");
            assertTrue(conditions.path("sameSettings").asBoolean(), name + ": both sides run the same settings " + conditions);
        }
        Set<String> expected = new HashSet<>(EXPECTED_ROWS);
        if (PgBouncer.installed()) {
            // The relay reference runs where the OS package is installed (scripts/setup does not install it).
            expected.addAll(List.of("tps_tpcb_pgbouncer_s1", "tps_select_only_pgbouncer_s1"));
        }
        assertEquals(expected, names);
        assertTrue(Files.readString(runDirectory.resolve("results.md")).contains("| tps_select_only_s1 |"));
        BufferedImage chart = ImageIO.read(runDirectory.resolve(EndToEndBenchmark.CREATION_CHART).toFile());
        assertEquals(960, chart.getWidth(), "the creation-vs-size chart is a readable PNG");
        assertEquals(0, results.path("jmh").size(), "JMH was skipped");
        String log = progress.toString(StandardCharsets.UTF_8);
        assertTrue(log.matches("(?s).*\\[bench \\d\\d:\\d\\d:\\d\\d \\+\\d\\d:\\d\\d left ~\\d\\d:\\d\\d\\] pgbench -i -s 1.*"),
                "progress lines carry elapsed time and an estimate of the time left");

        // This run's own directory, not any pgbranch-bench*: another run on the machine may be going on.
        Path scratch = bench.scratchDirectory();
        assertTrue(scratch != null && Files.notExists(scratch), "the driver's temporary directory is deleted: " + scratch);
        List<String> benchMounts = Files.readAllLines(Path.of("/proc/mounts")).stream()
                .filter(l -> l.contains(scratch.toString())).toList();
        assertEquals(List.of(), benchMounts, "no mount of a bench run is left");
    }

    /** Progress to the test's own log and to stdout (kept by surefire per test class). */
    private static final class TeeStream extends PrintStream {
        private final PrintStream second;

        TeeStream(PrintStream first, PrintStream second) {
            super(first, true, StandardCharsets.UTF_8);
            this.second = second;
        }

        @Override
        public void println(String x) {
            super.println(x);
            second.println(x);
        }
    }
}
