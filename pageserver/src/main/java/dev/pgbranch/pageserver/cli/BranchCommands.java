package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Instant;

/** {@code pgbranch branch list|create|show|delete|reset|rebase|restore|protect|unprotect|expire}. */
@Command(name = "branch", description = "Create, inspect, reset and delete branches.",
        mixinStandardHelpOptions = true,
        subcommands = {BranchCommands.ListBranches.class, BranchCommands.Create.class, BranchCommands.Show.class,
                BranchCommands.Delete.class, BranchCommands.Reset.class, BranchCommands.Rebase.class, BranchCommands.Restore.class,
                BranchCommands.Protect.class, BranchCommands.Unprotect.class, BranchCommands.Expire.class})
final class BranchCommands {

    @Command(name = "list", description = "List the project's branches.", mixinStandardHelpOptions = true)
    static final class ListBranches extends ClientCommand {
        @Override
        void run(ApiClient client) {
            printBranches(client.get(branchPath(null)));
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a branch from a parent, at its current state or at a point in its history. "
                    + "Copies no data, whatever the size.")
    static final class Create extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class, description = "New branch name, e.g. dev/alex.")
        String name;

        @Option(names = "--parent", required = true, paramLabel = "BRANCH", converter = BranchNameConverter.class, description = "Parent branch.")
        String parent;

        @Option(names = "--at", paramLabel = "POINT",
                description = "A pgbranch LSN (X/Y, as 'branch show' prints in headLsn; not a Postgres WAL LSN) "
                        + "or an ISO-8601 time (2026-11-20T10:00:00Z) in the parent's history, inside the project's "
                        + "retention window (the parent's 'branch show' prints restorableFrom). "
                        + "Default: the parent's current state.")
        String at;

        @Option(names = "--expires-in", paramLabel = "DURATION",
                description = "Delete the branch automatically after this long: 90s, 30m, 8h, 7d or ISO-8601 (PT8H).")
        String expiresIn;

        @Option(names = "--expires-at", paramLabel = "TIME",
                description = "Delete the branch automatically at this ISO-8601 time (2026-12-01T00:00:00Z).")
        String expiresAt;

        @Override
        void run(ApiClient client) {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("name", name).put("parent", parent);
            if (at != null) {
                body.put("at", at);
            }
            if (expiresIn != null && expiresAt != null) {
                throw new CliException(CliException.USAGE, "give --expires-in or --expires-at, not both");
            }
            if (expiresIn != null) {
                body.put("expiresAt", Instant.now().plus(Durations.parse(expiresIn)).toString());
            } else if (expiresAt != null) {
                body.put("expiresAt", expiresAt);
            }
            printBranch(client.post(branchPath(null), body));
        }
    }

    @Command(name = "show", description = "Show one branch.", mixinStandardHelpOptions = true)
    static final class Show extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Override
        void run(ApiClient client) {
            printBranch(client.get(branchPath(name)));
        }
    }

    @Command(name = "rebase", mixinStandardHelpOptions = true,
            description = "Move a branch onto its parent's latest state, keeping the branch's own schema changes and "
                    + "migration history (replayed, all or nothing; nothing changes on a conflict). Data changes on the "
                    + "branch are not carried; the replaced state is kept as a backup branch. Same connection string.")
    static final class Rebase extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Option(names = "--dry-run", description = "List what would be replayed and the data changes it would not carry.")
        boolean dryRun;

        @Override
        void run(ApiClient client) {
            JsonNode report = client.post(branchPath(name) + "/rebase",
                    ApiClient.JSON.createObjectNode().put("dryRun", dryRun));
            if (options.json()) {
                printJson(report);
                return;
            }
            PrintWriter out = out();
            report.path("notes").forEach(n -> out.println("note: " + n.asText()));
            String branch = report.path("branch").asText();
            out.println((dryRun ? "would rebase " : "rebased ") + branch + " onto " + report.path("parent").asText()
                    + (report.path("parentLsn").isNull() ? "'s head" : " at " + report.path("parentLsn").asText()));
            for (JsonNode db : report.path("databases")) {
                out.println("database " + db.path("database").asText() + ": " + db.path("promoted").size()
                        + " schema change(s) and " + db.path("historyRowsCarried").asInt() + " migration-history row(s) "
                        + (dryRun ? "to replay" : "replayed"));
                for (JsonNode c : db.path("promoted")) {
                    out.println("  " + c.path("change").asText() + " " + c.path("kind").asText() + " " + c.path("object").asText());
                }
                if (dryRun) {
                    out.print(db.path("sql").asText());
                }
            }
            JsonNode data = report.path("dataNotCarried");
            out.println(data.isEmpty() ? "data changes not carried: none"
                    : "data changes not carried (they stay in the backup branch):");
            for (JsonNode t : data) {
                out.println("  " + t.path("database").asText() + " " + t.path("table").asText() + ": +" + t.path("added").asLong()
                        + " -" + t.path("removed").asLong() + " ~" + t.path("changed").asLong() + " row(s)");
            }
            if (!report.path("backup").isNull()) {
                out.println("the previous state is branch " + report.path("backup").asText());
            }
            out.flush();
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a branch (refused if protected or if it has children).")
    static final class Delete extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Override
        void run(ApiClient client) {
            client.delete(branchPath(name));
            if (options.json()) {
                printJson(ApiClient.JSON.createObjectNode().put("deleted", name));
            } else {
                out().println("deleted branch " + name);
                out().flush();
            }
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = "Reset a branch to its parent's current state (local changes are lost; "
                    + "same name, port and connection string).")
    static final class Reset extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Override
        void run(ApiClient client) {
            printBranch(client.post(branchPath(name) + "/reset", ApiClient.JSON.createObjectNode()));
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {"Restore a branch to an earlier point of its own history (same name, port and connection "
                    + "string).",
                    "The state before the restore is kept as a new branch NAME_old_<UTC time>, e.g. "
                            + "dev/alex_old_20261124T081500Z (same parent, not protected; delete it when no longer "
                            + "needed), unless --no-backup is given.",
                    "The point must lie inside the project's retention window ('pgbranch project show'); "
                            + "'branch show' prints the oldest one as restorableFrom."})
    static final class Restore extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Option(names = "--at", required = true, paramLabel = "POINT",
                description = "A pgbranch LSN (X/Y, as in headLsn) or an ISO-8601 time in the branch's own history.")
        String at;

        @Option(names = "--no-backup", description = "Do not keep the state before the restore as a backup branch.")
        boolean noBackup;

        @Override
        void run(ApiClient client) {
            printBranch(client.post(branchPath(name) + "/restore",
                    ApiClient.JSON.createObjectNode().put("at", at).put("backup", !noBackup)));
        }
    }

    @Command(name = "protect", description = "Protect a branch against delete, reset and restore.",
            mixinStandardHelpOptions = true)
    static final class Protect extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Override
        void run(ApiClient client) {
            printBranch(client.patch(branchPath(name), ApiClient.JSON.createObjectNode().put("protected", true)));
        }
    }

    @Command(name = "expire", mixinStandardHelpOptions = true,
            description = "Set or clear the time the server deletes a branch by itself.")
    static final class Expire extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Option(names = "--in", paramLabel = "DURATION", description = "From now: 90s, 30m, 8h, 7d or ISO-8601 (PT8H).")
        String in;

        @Option(names = "--at", paramLabel = "TIME", description = "At this ISO-8601 time.")
        String at;

        @Option(names = "--never", description = "Clear the expiry.")
        boolean never;

        @Override
        void run(ApiClient client) {
            if ((in != null ? 1 : 0) + (at != null ? 1 : 0) + (never ? 1 : 0) != 1) {
                throw new CliException(CliException.USAGE, "give exactly one of --in, --at, --never");
            }
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (never) {
                body.putNull("expiresAt");
            } else {
                body.put("expiresAt", in != null ? Instant.now().plus(Durations.parse(in)).toString() : at);
            }
            printBranch(client.patch(branchPath(name), body));
        }
    }

    @Command(name = "unprotect", description = "Remove a branch's protection.", mixinStandardHelpOptions = true)
    static final class Unprotect extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", converter = BranchNameConverter.class)
        String name;

        @Override
        void run(ApiClient client) {
            printBranch(client.patch(branchPath(name), ApiClient.JSON.createObjectNode().put("protected", false)));
        }
    }

    private BranchCommands() {
    }
}
