package dev.pgbranch.pageserver.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code pgbranch} command line. Exit codes: 0 success, 1 the server refused or failed the
 * request (its message is printed), 2 bad command line, 3 no server reachable.
 *
 * <pre>
 * pgbranch server --data-dir DIR [--api-port N] [--proxy-port N] [--branch-port-base N] [--idle-timeout 5m]
 * pgbranch server ... [--gc-interval 10m]
 * pgbranch branch list|create|show|delete|reset|restore [--no-backup]|protect|unprotect|expire ...
 * pgbranch project show | project set --retention 7d
 * pgbranch gc
 * pgbranch store quarantine list | adopt TIMELINE --as NAME [--parent B] | purge TIMELINE
 * pgbranch connect BRANCH [--routing] [--start]
 * pgbranch compute start|stop BRANCH
 * pgbranch diff BRANCH [--against B] [--database D] [--format side-by-side|unified|sql|json]
 * pgbranch promote BRANCH [--dry-run] [--force] [--database D] [--concurrent-indexes]
 * pgbranch console                       a one-time login link to the web console
 * </pre>
 */
@Command(name = "pgbranch", mixinStandardHelpOptions = true, version = "pgbranch 0.1.0",
        description = "Copy-on-write branches for PostgreSQL.",
        subcommands = {ServerCommand.class, BranchCommands.class, ProjectCommands.class, GcCommand.class,
                ConnectCommand.class, ComputeCommands.class,
                DiffCommand.class, PromoteCommand.class, ConsoleCommand.class, StoreCommands.class,
                CommandLine.HelpCommand.class})
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        // One line per log record, before any logger exists.
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line with the given streams and returns its exit code (for tests too). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(Main.class);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof CliException cli) {
                if (cli.json() != null && jsonOutput(parsed)) {
                    err.println(cli.json());
                } else {
                    err.println("error: " + cli.getMessage());
                }
                err.flush();
                return cli.exitCode();
            }
            // I/O problems (a busy port, a corrupt catalog...) carry a message written for the user.
            err.println("error: " + (e instanceof java.io.IOException && e.getMessage() != null ? e.getMessage() : e.toString()));
            err.flush();
            return CliException.REFUSED;
        });
        return commandLine.execute(args);
    }

    private static boolean jsonOutput(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        return leaf.hasMatchedOption("--output") && "json".equals(String.valueOf(leaf.matchedOptionValue("--output", "")));
    }
}
