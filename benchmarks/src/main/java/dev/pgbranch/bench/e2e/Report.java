package dev.pgbranch.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The results of one run, written as {@code results.json} (for tools) and {@code results.md}
 * (for people) into the run's directory. Rows are added as they are measured and both files are
 * rewritten after each, so an interrupted run still leaves what it measured.
 *
 * <pre>
 * results.json
 * { "startedAt": "2026-11-24T06:30:00Z", "finishedAt": ..., "status": "ok" | "running" | "failed",
 *   "error": null | "message", "mode": "full" | "quick", "options": {...},
 *   "machine": { "nproc": 2, "ramBytes": ..., "kernel": ..., "postgres": ..., ... },
 *   "results": [ { "name", "pgbranch", "reference", "ratio" (null if reference = 0), "unit",
 *                  "pgbranchMeasures", "referenceMeasures", "details", "conditions": {...} } ],
 *   "jmh": [ { "benchmark": "GetPageBenchmark.getPage", "params": {...}, "mode": "sample" | "ss",
 *              "threads", "samples", "score" (mean), "p50", "p99", "unit": "us/op",
 *              "opsPerSecond" | null, "megabytesPerSecond" | null } ],
 *   "notes": [ "text", ... ] }
 * </pre>
 *
 * <p>Storage-level comparisons (e.g. GetPage at depth 20 vs depth 0) are ordinary result rows
 * named {@code jmh_*}, whose reference is the baseline JMH result of the same run.
 *
 * <p>Thread-safety: thread-safe (the driver thread, and the shutdown hook on an interrupt).
 */
final class Report {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path directory;
    private final String startedAt;
    private final String mode;
    private final Map<String, Object> options;
    private final List<ResultRow> rows = new ArrayList<>();
    private final List<JmhSuite.Row> jmh = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private Map<String, Object> machine = Map.of();
    private String status = "running";
    private String error;
    private String finishedAt;

    Report(Path directory, String startedAt, String mode, Map<String, Object> options) {
        this.directory = directory;
        this.startedAt = startedAt;
        this.mode = mode;
        this.options = options;
    }

    Path directory() {
        return directory;
    }

    List<ResultRow> rows() {
        return List.copyOf(rows);
    }

    synchronized void machine(Map<String, Object> facts) {
        this.machine = facts;
    }

    synchronized void add(ResultRow row) {
        rows.add(row);
        write();
    }

    /** Storage-level JMH results, shown in a table of their own (they have no plain-Postgres reference). */
    synchronized void addJmh(List<JmhSuite.Row> results) {
        jmh.addAll(results);
        write();
    }

    /** A line for the report's notes (a failed part, where the chart or a profile is). */
    synchronized void note(String line) {
        notes.add(line);
        write();
    }

    /** Marks the run finished ({@code error} null: ok); the first call wins (an interrupt, then the failing step). */
    synchronized void finish(String finishedAt, String error) {
        if (this.finishedAt != null) {
            return;
        }
        this.finishedAt = finishedAt;
        this.error = error;
        this.status = error == null ? "ok" : "failed";
        write();
    }

    synchronized void write() {
        try {
            Files.createDirectories(directory);
            Files.write(directory.resolve("results.json"), JSON.writeValueAsBytes(json()));
            Files.writeString(directory.resolve("results.md"), markdown(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BenchException("cannot write the results into " + directory + ": " + e.getMessage(), e);
        }
    }

    private ObjectNode json() {
        ObjectNode root = JSON.createObjectNode();
        root.put("startedAt", startedAt);
        root.put("finishedAt", finishedAt);
        root.put("status", status);
        root.put("error", error);
        root.put("mode", mode);
        root.set("options", JSON.valueToTree(options));
        root.set("machine", JSON.valueToTree(machine));
        ArrayNode results = root.putArray("results");
        for (ResultRow r : rows) {
            ObjectNode row = results.addObject();
            row.put("name", r.name());
            row.put("pgbranch", r.pgbranch());
            row.put("reference", r.reference());
            if (Double.isFinite(r.ratio())) {
                row.put("ratio", r.ratio());
            } else {
                row.putNull("ratio");
            }
            row.put("unit", r.unit());
            row.put("pgbranchMeasures", r.pgbranchMeasures());
            row.put("referenceMeasures", r.referenceMeasures());
            row.put("details", r.details());
            row.set("conditions", JSON.valueToTree(r.conditions()));
        }
        ArrayNode storage = root.putArray("jmh");
        for (JmhSuite.Row r : jmh) {
            storage.add(JSON.valueToTree(JmhSuite.toMap(r)));
        }
        root.set("notes", JSON.valueToTree(notes));
        return root;
    }

    private String markdown() {
        StringBuilder md = new StringBuilder("# pgbranch end-to-end benchmark\n\n");
        md.append("Started ").append(startedAt).append(", ").append(finishedAt == null ? "not finished" : "finished " + finishedAt)
                .append(", mode ").append(mode).append(", status **").append(status).append("**");
        if (error != null) {
            md.append(": ").append(error.replace('\n', ' '));
        }
        md.append(".\n\nRatio = pgbranch / reference (for times lower is better for pgbranch, for tps higher is).\n\n");
        md.append("| name | pgbranch | reference | ratio | unit | pgbranch measures | reference measures | details |\n");
        md.append("| --- | ---: | ---: | ---: | --- | --- | --- | --- |\n");
        for (ResultRow r : rows) {
            md.append("| ").append(r.name()).append(" | ").append(number(r.pgbranch())).append(" | ")
                    .append(number(r.reference())).append(" | ")
                    .append(Double.isFinite(r.ratio()) ? String.format(Locale.ROOT, "%.3f", r.ratio()) : "n/a")
                    .append(" | ").append(r.unit()).append(" | ").append(cell(r.pgbranchMeasures())).append(" | ")
                    .append(cell(r.referenceMeasures())).append(" | ").append(cell(r.details())).append(" |\n");
        }
        if (!jmh.isEmpty()) {
            md.append("\n## Storage engine (JMH)\n\n");
            md.append("Raw JMH output: jmh.json, jmh.log. SampleTime rows: per-operation latency; ops/s = threads / mean. ")
                    .append("SingleShotTime rows: one operation per iteration; MB/s = megabytes / mean.\n\n");
            md.append("| benchmark | params | threads | p50 | p99 | mean | unit | ops/s | MB/s | samples |\n");
            md.append("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n");
            for (JmhSuite.Row r : jmh) {
                md.append("| ").append(r.benchmark()).append(" | ").append(cell(r.params().toString())).append(" | ")
                        .append(r.threads()).append(" | ").append(number(r.p50())).append(" | ").append(number(r.p99()))
                        .append(" | ").append(number(r.score())).append(" | ").append(r.unit()).append(" | ")
                        .append(number(r.opsPerSecond())).append(" | ").append(number(r.megabytesPerSecond()))
                        .append(" | ").append(r.samples()).append(" |\n");
            }
        }
        if (!notes.isEmpty()) {
            md.append("\n## Notes\n\n");
            notes.forEach(n -> md.append("- ").append(cell(n)).append('\n'));
        }
        md.append("\n## Conditions\n\n");
        machine.forEach((k, v) -> md.append("- ").append(k).append(": ").append(cell(String.valueOf(v))).append('\n'));
        md.append("\nOptions: ").append(options).append('\n');
        return md.toString();
    }

    static String number(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%,.1f" : Math.abs(v) >= 0.1 ? "%.2f" : "%.4f", v);
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace('\n', ' ');
    }
}
