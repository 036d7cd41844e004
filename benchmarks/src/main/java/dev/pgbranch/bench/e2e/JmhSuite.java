package dev.pgbranch.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The storage-level JMH suite as one step of the benchmark run: each benchmark class of
 * {@code dev.pgbranch.bench} with the parameters the quick or full mode asks for, run through
 * JMH's {@link Runner} (one forked JVM per parameter set, on this JVM's class path), JMH's
 * human output into {@code jmh.log}, its JSON results merged into {@code jmh.json} (without the
 * per-sample histograms, which would make it megabytes large), and each
 * result turned into a {@link Row} (p50, p99, mean, ops/s, MB/s) for the report, plus the
 * same-run comparisons the issue asks for ({@link #comparisons}).
 *
 * <p>Large parents (up to 10 GB in full mode) are built once into a cache directory the forks
 * share ({@code -Dpgbranch.bench.parentCache}); the caller deletes it.
 *
 * <p>Thread-safety: not thread-safe; one driver thread.
 */
final class JmhSuite {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String PACKAGE = "dev.pgbranch.bench.";

    /**
     * One JMH invocation: the benchmarks matching {@code include} with {@code params}.
     *
     * @param singleShot the benchmarks use SingleShotTime (iterations, not time, are set)
     * @param trials parameter sets x methods it runs, for the progress estimate
     * @param extraSeconds setup time per run beyond the iterations (building fixtures), for the estimate
     */
    record Case(String title, String include, Map<String, List<String>> params, boolean singleShot, int trials,
            int extraSeconds) {
    }

    /** One benchmark result as the report shows it. */
    record Row(String benchmark, Map<String, String> params, String mode, int threads, long samples, double score,
            double p50, double p99, String unit, double opsPerSecond, double megabytesPerSecond) {

        /** {@code GetPageBenchmark.getPage source=layerFiles depth=20}. */
        String label() {
            StringBuilder b = new StringBuilder(benchmark);
            params.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
            return b.toString();
        }

        String param(String name) {
            return params.get(name);
        }
    }

    /** A comparison of two rows of the same run, for the main results table. */
    record Comparison(String name, double value, double reference, String unit, String measures,
            String referenceMeasures, String details) {
    }

    private final boolean quick;
    private final Path cacheDirectory;

    JmhSuite(boolean quick, Path cacheDirectory) {
        this.quick = quick;
        this.cacheDirectory = cacheDirectory;
    }

    /** What runs, in order. */
    List<Case> plan() {
        List<Case> plan = new ArrayList<>();
        List<String> depths = quick ? List.of("0", "20") : List.of("0", "1", "5", "20");
        plan.add(new Case("GetPage@LSN from page cache and layer files, ancestor depth " + depths,
                "GetPageBenchmark", Map.of("depth", depths, "source", List.of("pageCache", "layerFiles")), false,
                2 * depths.size(), 2));
        plan.add(new Case("GetPage@LSN over 40 delta layers, before and after compaction", "ReadAmplificationBenchmark",
                Map.of("compacted", List.of("false", "true")), false, 2, 3));
        List<String> sizes = quick ? List.of("10", "1024") : List.of("10", "1024", "10240");
        List<String> fsync = quick ? List.of("true") : List.of("true", "false");
        plan.add(new Case("branch creation on parents of " + sizes + " MB", "BranchCreationBenchmark",
                Map.of("parentMegabytes", sizes, "fsync", fsync), false, sizes.size() * fsync.size(), quick ? 2 : 8));
        plan.add(new Case("reset (new timeline at the parent's head + delete the old one) on 10 MB and 1 GB",
                "ResetBenchmark", Map.of("parentMegabytes", List.of("10", "1024")), false, 2, 1));
        plan.add(new Case("write + sync from 1, 4 and 16 threads" + (quick ? "" : ", and write alone"),
                quick ? "IngestBenchmark\\.writePageAndSync" : "IngestBenchmark", Map.of(), false, quick ? 3 : 4, 0));
        plan.add(new Case("flush of the in-memory layer", "FlushBenchmark",
                Map.of("megabytes", List.of(quick ? "64" : "128")), true, 1, quick ? 3 : 12));
        plan.add(new Case("compaction of a timeline with 50% garbage", "CompactionBenchmark",
                Map.of("megabytes", List.of(quick ? "64" : "256")), true, 1, quick ? 6 : 30));
        return plan;
    }

    /** Estimated seconds of {@code c}, for the progress ETA. */
    int estimateSeconds(Case c) {
        int perTrial = c.singleShot() ? 2 : quick ? 2 : 8;
        return c.trials() * (perTrial + 2) + c.extraSeconds();
    }

    int estimateSeconds() {
        return plan().stream().mapToInt(this::estimateSeconds).sum();
    }

    /**
     * Runs every case, writing {@code jmh.log} and {@code jmh.json} into {@code directory}; a case
     * that fails (e.g. an engine call not implemented yet) is reported through {@code failed} and
     * the others still run. Returns the rows of every result.
     */
    List<Row> run(Path directory, Consumer<Case> starting, Consumer<String> failed) {
        ArrayNode merged = JSON.createArrayNode();
        Path log = directory.resolve("jmh.log");
        for (Case c : plan()) {
            starting.accept(c);
            Path json = directory.resolve("jmh-" + c.include().replaceAll("[^A-Za-z0-9]+", "-") + ".json");
            ChainedOptionsBuilder options = new OptionsBuilder()
                    .include(PACKAGE.replace(".", "\\.") + c.include())
                    .forks(1)
                    .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx2g",
                            "-Dpgbranch.bench.parentCache=" + cacheDirectory)
                    .resultFormat(ResultFormatType.JSON)
                    .result(json.toString())
                    .output(appendTarget(log, c).toString());
            if (c.singleShot()) {
                options.warmupIterations(quick ? 0 : 1).measurementIterations(quick ? 1 : 3);
            } else if (quick) {
                options.warmupIterations(1).warmupTime(TimeValue.seconds(1))
                        .measurementIterations(1).measurementTime(TimeValue.seconds(1));
            } else {
                options.warmupIterations(2).warmupTime(TimeValue.seconds(1))
                        .measurementIterations(3).measurementTime(TimeValue.seconds(2));
            }
            c.params().forEach((name, values) -> options.param(name, values.toArray(String[]::new)));
            try {
                new Runner(options.build()).run();
            } catch (RunnerException | RuntimeException e) {
                failed.accept(c.title() + ": " + e.getMessage());
            }
            try {
                if (Files.exists(json) && Files.size(json) > 0) {
                    JSON.readTree(json.toFile()).forEach(merged::add);
                    Files.delete(json);
                }
                appendLog(log, appendTarget(log, c));
            } catch (IOException e) {
                throw new BenchException("cannot read JMH results " + json + ": " + e.getMessage(), e);
            }
            if (countMatching(merged, c) < c.trials()) {
                failed.accept(c.title() + ": " + countMatching(merged, c) + " of " + c.trials()
                        + " results (a failing benchmark's error is in jmh.log)");
            }
        }
        List<Row> rows = parse(merged);
        // The per-sample histograms make the file megabytes large; percentiles, scores and the
        // per-iteration figures (rawData) are kept, the counts are in the rows.
        for (JsonNode node : merged) {
            if (node.path("primaryMetric") instanceof ObjectNode metric) {
                metric.remove("rawDataHistogram");
            }
            for (JsonNode secondary : node.path("secondaryMetrics")) {
                if (secondary instanceof ObjectNode metric) {
                    metric.remove("rawDataHistogram");
                }
            }
        }
        try {
            Files.write(directory.resolve("jmh.json"), JSON.writeValueAsBytes(merged));
        } catch (IOException e) {
            throw new BenchException("cannot write jmh.json: " + e.getMessage(), e);
        }
        return rows;
    }

    private static long countMatching(ArrayNode merged, Case c) {
        String prefix = PACKAGE + c.include().replace("\\.", ".");
        long n = 0;
        for (JsonNode node : merged) {
            if (node.path("benchmark").asText().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    /** JMH overwrites its output file: each case writes its own, appended to jmh.log afterwards. */
    private static Path appendTarget(Path log, Case c) {
        return log.resolveSibling("jmh-" + c.include().replaceAll("[^A-Za-z0-9]+", "-") + ".log");
    }

    private static void appendLog(Path log, Path part) throws IOException {
        if (Files.exists(part)) {
            Files.write(log, Files.readAllBytes(part), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            Files.delete(part);
        }
    }

    /** The rows of a JMH JSON result array (as written by {@code -rf json}). */
    static List<Row> parse(JsonNode results) {
        List<Row> rows = new ArrayList<>();
        for (JsonNode r : results) {
            String full = r.path("benchmark").asText();
            String benchmark = full.startsWith(PACKAGE) ? full.substring(PACKAGE.length()) : full;
            Map<String, String> params = new TreeMap<>();
            r.path("params").properties().forEach(e -> params.put(e.getKey(), e.getValue().asText()));
            JsonNode metric = r.path("primaryMetric");
            String unit = metric.path("scoreUnit").asText();
            double score = metric.path("score").asDouble();
            JsonNode percentiles = metric.path("scorePercentiles");
            double p50 = percentiles.path("50.0").asDouble(Double.NaN);
            double p99 = percentiles.path("99.0").asDouble(Double.NaN);
            String mode = r.path("mode").asText();
            int threads = r.path("threads").asInt(1);
            double secondsPerOp = score * secondsPer(unit);
            // SampleTime keeps every thread busy all the time (a closed loop): ops/s = threads / mean latency.
            double ops = mode.equals("sample") && secondsPerOp > 0 ? threads / secondsPerOp : Double.NaN;
            double mbps = params.containsKey("megabytes") && mode.equals("ss") && secondsPerOp > 0
                    ? Double.parseDouble(params.get("megabytes")) / secondsPerOp : Double.NaN;
            long samples = 0;
            for (JsonNode iteration : metric.path("rawDataHistogram")) {
                for (JsonNode fork : iteration) {
                    for (JsonNode bucket : fork) {
                        samples += bucket.path(1).asLong();
                    }
                }
            }
            if (samples == 0) {
                for (JsonNode fork : metric.path("rawData")) {
                    samples += fork.size();
                }
            }
            rows.add(new Row(benchmark, params, mode, threads, samples, score, p50, p99, unit, ops, mbps));
        }
        return rows;
    }

    /** Seconds per unit of a JMH time unit ({@code us/op}, {@code ms/op}, ...). */
    static double secondsPer(String unit) {
        String time = unit.contains("/") ? unit.substring(0, unit.indexOf('/')) : unit;
        return switch (time) {
            case "ns" -> 1e-9;
            case "us" -> 1e-6;
            case "ms" -> 1e-3;
            case "s" -> 1;
            case "min" -> 60;
            default -> throw new IllegalArgumentException("not a JMH time unit: " + unit);
        };
    }

    /**
     * The figures the issue asks for as ratios to a baseline of the same run: deeper ancestry vs
     * none, layer files vs page cache, after compaction vs before, larger parents vs 10 MB, more
     * writers vs one. A comparison whose rows are missing (not run, or failed) is left out.
     */
    static List<Comparison> comparisons(List<Row> rows) {
        List<Comparison> out = new ArrayList<>();
        for (String source : List.of("pageCache", "layerFiles")) {
            Optional<Row> base = find(rows, "GetPageBenchmark.getPage", r -> source.equals(r.param("source"))
                    && "0".equals(r.param("depth")));
            for (Row r : rows) {
                if (base.isPresent() && r.benchmark().equals("GetPageBenchmark.getPage") && source.equals(r.param("source"))
                        && !"0".equals(r.param("depth"))) {
                    String where = source.equals("pageCache") ? "engine page cache" : "layer files (engine cache off, OS cache warm)";
                    out.add(new Comparison("jmh_getpage_" + snake(source) + "_depth" + r.param("depth"), r.p50(),
                            base.get().p50(), "us", "p50 GetPage@LSN of an 8 KB page from the " + where + " at the head "
                            + "of a timeline " + r.param("depth") + " branches below the one that wrote it",
                            "the same at depth 0", details(r, base.get())));
                }
            }
        }
        Optional<Row> cached = find(rows, "GetPageBenchmark.getPage", r -> "pageCache".equals(r.param("source"))
                && "0".equals(r.param("depth")));
        find(rows, "GetPageBenchmark.getPage", r -> "layerFiles".equals(r.param("source")) && "0".equals(r.param("depth")))
                .ifPresent(files -> cached.ifPresent(c -> out.add(new Comparison("jmh_getpage_layer_files_vs_page_cache",
                        files.p50(), c.p50(), "us", "p50 GetPage@LSN decoded from a layer file (pread + CRC32C + LZ4)",
                        "p50 GetPage@LSN from the engine page cache", details(files, c)))));
        Optional<Row> before = find(rows, "ReadAmplificationBenchmark.getPage", r -> "false".equals(r.param("compacted")));
        find(rows, "ReadAmplificationBenchmark.getPage", r -> "true".equals(r.param("compacted")))
                .ifPresent(after -> before.ifPresent(b -> out.add(new Comparison("jmh_read_after_compaction",
                        after.p50(), b.p50(), "us", "p50 GetPage@LSN after collectGarbage at the last LSN merged the "
                        + "timeline's layer files", "p50 GetPage@LSN with the key range spread over 40 strided delta "
                        + "layer files (a page's newest version 1 to 40 files down)", details(after, b)))));
        for (String fsync : List.of("true", "false")) {
            Optional<Row> small = find(rows, "BranchCreationBenchmark.createBranch",
                    r -> "10".equals(r.param("parentMegabytes")) && fsync.equals(r.param("fsync")));
            for (Row r : rows) {
                if (small.isPresent() && r.benchmark().equals("BranchCreationBenchmark.createBranch")
                        && fsync.equals(r.param("fsync")) && !"10".equals(r.param("parentMegabytes"))) {
                    out.add(new Comparison("jmh_branch_create_" + r.param("parentMegabytes") + "mb"
                            + (fsync.equals("true") ? "" : "_nofsync"), r.p50(), small.get().p50(), "us",
                            "p50 createBranch on a " + r.param("parentMegabytes") + " MB parent, fsync " + onOff(fsync),
                            "the same on a 10 MB parent", details(r, small.get())));
                }
            }
        }
        Optional<Row> smallReset = find(rows, "ResetBenchmark.reset", r -> "10".equals(r.param("parentMegabytes")));
        for (Row r : rows) {
            if (smallReset.isPresent() && r.benchmark().equals("ResetBenchmark.reset")
                    && !"10".equals(r.param("parentMegabytes"))) {
                out.add(new Comparison("jmh_reset_" + r.param("parentMegabytes") + "mb", r.p50(), smallReset.get().p50(),
                        "us", "p50 reset at storage level (createBranch at the parent's head + deleteTimeline of the "
                        + "diverged old one) on a " + r.param("parentMegabytes") + " MB parent",
                        "the same on a 10 MB parent", details(r, smallReset.get())));
            }
        }
        Optional<Row> one = find(rows, "IngestBenchmark.writePageAndSyncFrom1Thread", r -> true);
        for (String n : List.of("4", "16")) {
            find(rows, "IngestBenchmark.writePageAndSyncFrom" + n + "Threads", r -> true).ifPresent(many -> one.ifPresent(
                    o -> out.add(new Comparison("jmh_write_sync_" + n + "_threads", many.opsPerSecond(), o.opsPerSecond(),
                            "ops/s", "8 KB write + sync() per operation from " + n + " threads (group commit), "
                            + "threads / mean latency", "the same from 1 thread", details(many, o)))));
        }
        return out;
    }

    private static String details(Row r, Row reference) {
        return describe(r) + "; reference " + describe(reference);
    }

    static String describe(Row r) {
        return String.format(Locale.ROOT, "%s: p50 %s, p99 %s, mean %s %s, %d samples, %d thread(s)", r.label(),
                number(r.p50()), number(r.p99()), number(r.score()), r.unit(), r.samples(), r.threads());
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.2f", v);
    }

    private static Optional<Row> find(List<Row> rows, String benchmark, Predicate<Row> matching) {
        return rows.stream().filter(r -> r.benchmark().equals(benchmark) && matching.test(r)).findFirst();
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    private static String onOff(String bool) {
        return bool.equals("true") ? "on" : "off";
    }

    /** The row's figures as a map for results.json. */
    static Map<String, Object> toMap(Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("benchmark", r.benchmark());
        m.put("params", r.params());
        m.put("mode", r.mode());
        m.put("threads", r.threads());
        m.put("samples", r.samples());
        m.put("score", r.score());
        m.put("p50", Double.isNaN(r.p50()) ? null : r.p50());
        m.put("p99", Double.isNaN(r.p99()) ? null : r.p99());
        m.put("unit", r.unit());
        m.put("opsPerSecond", Double.isNaN(r.opsPerSecond()) ? null : r.opsPerSecond());
        m.put("megabytesPerSecond", Double.isNaN(r.megabytesPerSecond()) ? null : r.megabytesPerSecond());
        return m;
    }
}
