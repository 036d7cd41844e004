package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

/** {@code pgbranch gc}: one garbage collection round of the project now, with per-timeline results. */
@Command(name = "gc", mixinStandardHelpOptions = true,
        description = "Garbage-collect the project now: give up history older than its retention window (kept at "
                + "every child's branch point) and compact layer files. The server also does this every "
                + "--gc-interval.")
final class GcCommand extends ClientCommand {

    @Override
    void run(ApiClient client) {
        JsonNode report = client.post(ApiClient.projectPath(options.project) + "/gc", ApiClient.JSON.createObjectNode());
        if (options.json()) {
            printJson(report);
            return;
        }
        Table table = new Table("BRANCH", "HORIZON LSN", "LAYERS", "BEFORE", "AFTER", "VERSIONS DROPPED", "NOTE");
        for (JsonNode t : report.path("timelines")) {
            String branch = t.path("branch").isNull() ? "(retired " + t.path("timeline").asText().substring(0, 8) + ")"
                    : t.path("branch").asText();
            if (!t.path("error").isNull()) {
                table.row(branch, null, null, null, null, null, "failed: " + t.path("error").asText());
                continue;
            }
            String horizon = t.path("horizonLsn").asText();
            table.row(branch, horizon.equals("0/0") ? null : horizon,
                    t.path("layerFilesBefore").asInt() + " -> " + t.path("layerFilesAfter").asInt(),
                    Bytes.human(t.path("bytesBefore").asLong()), Bytes.human(t.path("bytesAfter").asLong()),
                    t.path("versionsDropped").asLong(),
                    t.path("retired").asBoolean() ? "kept for a child's branch point"
                            : t.path("windowApplied").asBoolean() ? null : "younger than the window: compacted only");
        }
        table.print(out());
        out().println("freed " + Bytes.human(report.path("bytesFreed").asLong()) + " in "
                + report.path("durationMs").asLong() + " ms");
        out().flush();
    }
}
