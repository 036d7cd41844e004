package dev.pgbranch.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Turning JMH's JSON results into report rows and same-run comparisons, and what each mode runs. */
class JmhSuiteTest {

    /** The shape JMH 1.37 writes with -rf json, cut down to the fields read (two sample runs, one single shot). */
    private static final String RESULTS = """
            [
              { "benchmark": "dev.pgbranch.bench.GetPageBenchmark.getPage", "mode": "sample", "threads": 1, "forks": 1,
                "params": { "depth": "0", "source": "layerFiles" },
                "primaryMetric": { "score": 4.8, "scoreUnit": "us/op",
                  "scorePercentiles": { "0.0": 3.9, "50.0": 4.6, "99.0": 5.8, "100.0": 90.0 },
                  "rawDataHistogram": [ [ [ [4.5, 700], [4.7, 300] ] ], [ [ [4.6, 1000] ] ] ] } },
              { "benchmark": "dev.pgbranch.bench.GetPageBenchmark.getPage", "mode": "sample", "threads": 1, "forks": 1,
                "params": { "depth": "20", "source": "layerFiles" },
                "primaryMetric": { "score": 5.3, "scoreUnit": "us/op",
                  "scorePercentiles": { "50.0": 5.1, "99.0": 7.0 }, "rawDataHistogram": [ [ [ [5.1, 10] ] ] ] } },
              { "benchmark": "dev.pgbranch.bench.IngestBenchmark.writePageAndSyncFrom1Thread", "mode": "sample",
                "threads": 1, "forks": 1, "params": {},
                "primaryMetric": { "score": 250.0, "scoreUnit": "us/op", "scorePercentiles": { "50.0": 200, "99.0": 2000 } } },
              { "benchmark": "dev.pgbranch.bench.IngestBenchmark.writePageAndSyncFrom16Threads", "mode": "sample",
                "threads": 16, "forks": 1, "params": {},
                "primaryMetric": { "score": 2000.0, "scoreUnit": "us/op", "scorePercentiles": { "50.0": 1500, "99.0": 9000 } } },
              { "benchmark": "dev.pgbranch.bench.FlushBenchmark.flush", "mode": "ss", "threads": 1, "forks": 1,
                "params": { "megabytes": "128" },
                "primaryMetric": { "score": 400.0, "scoreUnit": "ms/op", "scorePercentiles": { "50.0": 400, "99.0": 410 },
                  "rawData": [ [ 390.0, 400.0, 410.0 ] ] } }
            ]
            """;

    @Test
    void jmhJsonBecomesRowsWithPercentilesThroughputAndMegabytesPerSecond() throws IOException {
        List<JmhSuite.Row> rows = JmhSuite.parse(new ObjectMapper().readTree(RESULTS));
        assertEquals(5, rows.size());

        JmhSuite.Row depth0 = rows.getFirst();
        assertEquals("GetPageBenchmark.getPage", depth0.benchmark());
        assertEquals(Map.of("depth", "0", "source", "layerFiles"), depth0.params());
        assertEquals(4.6, depth0.p50());
        assertEquals(5.8, depth0.p99());
        assertEquals(2000, depth0.samples(), "histogram counts over every iteration");
        assertEquals(1e6 / 4.8, depth0.opsPerSecond(), 1e-6);
        assertTrue(Double.isNaN(depth0.megabytesPerSecond()));
        assertEquals("GetPageBenchmark.getPage depth=0 source=layerFiles", depth0.label());

        JmhSuite.Row sixteen = rows.get(3);
        assertEquals(16 / 2000e-6, sixteen.opsPerSecond(), 1e-6, "closed loop: threads / mean latency");

        JmhSuite.Row flush = rows.get(4);
        assertEquals(128 / 0.4, flush.megabytesPerSecond(), 1e-9);
        assertTrue(Double.isNaN(flush.opsPerSecond()));
        assertEquals(3, flush.samples());
    }

    @Test
    void comparisonsPairEachFigureWithItsBaselineOfTheSameRun() throws IOException {
        List<JmhSuite.Comparison> comparisons = JmhSuite.comparisons(JmhSuite.parse(new ObjectMapper().readTree(RESULTS)));
        Map<String, JmhSuite.Comparison> byName = comparisons.stream()
                .collect(Collectors.toMap(JmhSuite.Comparison::name, c -> c));
        JmhSuite.Comparison depth = byName.get("jmh_getpage_layer_files_depth20");
        assertEquals(5.1, depth.value(), "p50 at depth 20");
        assertEquals(4.6, depth.reference(), "p50 at depth 0, same source");
        assertEquals("us", depth.unit());
        JmhSuite.Comparison writers = byName.get("jmh_write_sync_16_threads");
        assertEquals(8000, writers.value(), 1e-6);
        assertEquals(4000, writers.reference(), 1e-6);
        assertEquals("ops/s", writers.unit());
        // No page-cache rows, no compaction rows, no 4-thread row: those comparisons are left out, not invented.
        assertEquals(List.of("jmh_getpage_layer_files_depth20", "jmh_write_sync_16_threads"),
                comparisons.stream().map(JmhSuite.Comparison::name).toList());
        for (JmhSuite.Comparison c : comparisons) {
            assertFalse(c.measures().isBlank() || c.referenceMeasures().isBlank() || c.details().isBlank(), c.toString());
        }
    }

    @Test
    void fullModeRunsTheLargerParametersAndQuickModeASubset(@TempDir Path cache) {
        JmhSuite full = new JmhSuite(false, cache);
        JmhSuite quick = new JmhSuite(true, cache);
        Map<String, Map<String, List<String>>> fullParams = full.plan().stream()
                .collect(Collectors.toMap(JmhSuite.Case::include, JmhSuite.Case::params));
        assertEquals(List.of("0", "1", "5", "20"), fullParams.get("GetPageBenchmark").get("depth"));
        assertEquals(List.of("10", "1024", "10240"), fullParams.get("BranchCreationBenchmark").get("parentMegabytes"));
        assertEquals(List.of("256"), fullParams.get("CompactionBenchmark").get("megabytes"));
        Map<String, Map<String, List<String>>> quickParams = quick.plan().stream()
                .collect(Collectors.toMap(JmhSuite.Case::include, JmhSuite.Case::params));
        assertFalse(quickParams.get("BranchCreationBenchmark").get("parentMegabytes").contains("10240"));
        assertEquals(full.plan().size(), quick.plan().size(), "every benchmark runs in both modes");
        assertTrue(quick.estimateSeconds() < 150, "quick JMH fits the 5 minute budget: " + quick.estimateSeconds());
        assertTrue(full.estimateSeconds() < 15 * 60, "full JMH leaves room in 30 minutes: " + full.estimateSeconds());
    }

    @Test
    void unknownTimeUnitsAreRefused() {
        assertEquals(1e-6, JmhSuite.secondsPer("us/op"));
        assertEquals(1e-3, JmhSuite.secondsPer("ms/op"));
        assertThrows(IllegalArgumentException.class, () -> JmhSuite.secondsPer("ops/s"));
    }

    @Test
    void reportShowsJmhRowsInTheirOwnTableAndJson(@TempDir Path dir) throws IOException {
        Report report = new Report(dir, "2026-11-24T08:00:00Z", "quick", Map.of());
        report.addJmh(JmhSuite.parse(new ObjectMapper().readTree(RESULTS)));
        report.note("chart creation-vs-size.png");
        String md = Files.readString(dir.resolve("results.md"));
        assertTrue(md.contains("## Storage engine (JMH)"), md);
        assertTrue(md.contains("| FlushBenchmark.flush | {megabytes=128} | 1 | 400 | 410 | 400 | ms/op | n/a | 320 | 3 |"), md);
        assertTrue(md.contains("- chart creation-vs-size.png"), md);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        assertEquals(5, json.path("jmh").size());
        assertEquals(320.0, json.path("jmh").get(4).path("megabytesPerSecond").asDouble(), 1e-9);
        assertTrue(json.path("jmh").get(4).path("opsPerSecond").isNull());
        assertEquals("chart creation-vs-size.png", json.path("notes").get(0).asText());
    }
}
