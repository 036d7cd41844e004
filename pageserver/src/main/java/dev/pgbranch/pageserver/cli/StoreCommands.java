package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgbranch store quarantine list|adopt|purge}: the timelines of the store that no catalog
 * listed when the server found them (kept, not served, never deleted by the server itself).
 */
@Command(name = "store", description = "Operate on the storage engine's store.", mixinStandardHelpOptions = true,
        subcommands = {StoreCommands.QuarantineCommands.class, StoreCommands.Verify.class})
final class StoreCommands {

    @Command(name = "quarantine", mixinStandardHelpOptions = true,
            description = "Timelines the catalog does not list (a crash between a storage change and its catalog "
                    + "record, or newer than a catalog put back from a backup): kept and not served until adopted "
                    + "as a branch or purged.",
            subcommands = {List.class, Adopt.class, Purge.class})
    static final class QuarantineCommands {
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the quarantined timelines with their ancestry, size and last write.")
    static final class List extends ClientCommand {
        @Override
        void run(ApiClient client) {
            JsonNode list = client.get("/v1/store/quarantine");
            if (options.json()) {
                printJson(list);
                return;
            }
            Table table = new Table("TIMELINE", "ANCESTOR", "AT LSN", "ANCESTOR BRANCH", "CHILDREN", "SIZE", "HEAD LSN",
                    "LAST WRITE");
            for (JsonNode t : list.path("timelines")) {
                table.row(t.path("timeline").asText(), text(t, "ancestor"), text(t, "ancestorLsn"),
                        text(t, "ancestorBranch"), t.path("children").size(),
                        t.path("ownBytes").isIntegralNumber() ? Bytes.human(t.path("ownBytes").asLong()
                                + t.path("pendingBytes").asLong()) : null,
                        text(t, "lastLsn"), text(t, "lastWrite"));
            }
            table.print(out());
            out().println(list.path("timelines").size() + " quarantined timeline(s); 'pgbranch store quarantine adopt "
                    + "TIMELINE --as NAME' gives one a branch again, 'purge TIMELINE' deletes it");
            out().flush();
        }

        private static String text(JsonNode node, String field) {
            JsonNode value = node.get(field);
            return value == null || value.isNull() ? null : value.asText();
        }
    }

    @Command(name = "adopt", mixinStandardHelpOptions = true,
            description = "Make a quarantined timeline a branch again (of --project), with a new port.")
    static final class Adopt extends ClientCommand {
        @Parameters(index = "0", paramLabel = "TIMELINE", description = "As 'quarantine list' prints it.")
        String timeline;

        @Option(names = "--as", required = true, paramLabel = "NAME", converter = BranchNameConverter.class,
                description = "Name of the new branch.")
        String name;

        @Option(names = "--parent", paramLabel = "BRANCH", converter = BranchNameConverter.class,
                description = "Parent branch to list it under (default: the nearest branch it descends from).")
        String parent;

        @Override
        void run(ApiClient client) {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("as", name).put("project", options.project);
            if (parent != null) {
                body.put("parent", parent);
            }
            printBranch(client.post("/v1/store/quarantine/" + ApiClient.encode(timeline) + "/adopt", body));
        }
    }

    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = "Delete a quarantined timeline from the store for good (refused while another timeline "
                    + "branches from it). The only command that deletes a timeline the catalog does not list.")
    static final class Purge extends ClientCommand {
        @Parameters(index = "0", paramLabel = "TIMELINE")
        String timeline;

        @Override
        void run(ApiClient client) {
            client.delete("/v1/store/quarantine/" + ApiClient.encode(timeline));
            out().println("purged timeline " + timeline);
            out().flush();
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Read and check everything the store holds: every value of every layer file, the manifest "
                    + "and every ingest log record. Prints each problem with its file and offset, the timelines the "
                    + "store holds back as damaged, and what it kept aside; changes nothing. Exits 1 unless sound.")
    static final class Verify extends ClientCommand {
        @Override
        void run(ApiClient client) {
            JsonNode report = client.post("/v1/store/verify", ApiClient.JSON.createObjectNode());
            if (options.json()) {
                printJson(report);
            } else {
                Table findings = new Table("FILE", "OFFSET", "PROBLEM");
                report.path("findings").forEach(f -> findings.row(f.path("file").asText(), f.path("offset").asLong(),
                        f.path("problem").asText()));
                if (!report.path("findings").isEmpty()) {
                    findings.print(out());
                }
                report.path("damaged").forEach(d -> out().println("quarantined (damaged): timeline "
                        + d.path("timeline").asText() + ": " + d.path("reason").asText()));
                report.path("keptAside").forEach(f -> out().println("kept aside: " + f.asText()));
                out().printf("checked %d layer file(s) (%d values), %d ingest log record(s) (%d bytes): %s%n",
                        report.path("layerFilesChecked").asLong(), report.path("valuesChecked").asLong(),
                        report.path("logRecordsChecked").asLong(), report.path("logBytesChecked").asLong(),
                        report.path("sound").asBoolean() ? "sound" : report.path("findings").size() + " problem(s), "
                                + report.path("damaged").size() + " damaged timeline(s)");
                out().flush();
            }
            if (!report.path("sound").asBoolean()) {
                throw new CliException(CliException.REFUSED, "the store is not sound (see above)");
            }
        }
    }

    private StoreCommands() {
    }
}
