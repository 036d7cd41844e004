package dev.pgbranch.pageserver.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

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
 * pgbranch env BRANCH [--file .env] [--variable DATABASE_URL]
 * pgbranch completion bash|zsh
 * </pre>
 *
 * <p>The client options ({@code --data-dir}, {@code --api}, {@code --project}, {@code --output})
 * go after the subcommand or before it ({@link GlobalOptions}).
 */
@Command(name = "pgbranch", mixinStandardHelpOptions = true, version = "pgbranch 0.1.0",
        description = "Copy-on-write branches for PostgreSQL.")
public final class Main {

    /**
     * The subcommands, in help order. Registered programmatically rather than in the annotation:
     * picocli builds a command's model from its annotations by reflection when it is registered,
     * and for a one-shot CLI that is most of the start-up; a command line that names one of them
     * gets only that one (see {@link #commandLine}).
     */
    private static final Map<String, Class<?>> SUBCOMMANDS = subcommands(ServerCommand.class, BranchCommands.class,
            ProjectCommands.class, GcCommand.class, ConnectCommand.class, EnvCommand.class, ComputeCommands.class,
            DiffCommand.class, PromoteCommand.class, ConsoleCommand.class, StoreCommands.class, CompletionCommand.class,
            CommandLine.HelpCommand.class);

    private Main() {
    }

    public static void main(String[] args) {
        // One line per log record, before any logger exists.
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line with the given streams and returns its exit code (for tests too). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        String[] hoisted = GlobalOptions.hoist(args);
        CommandLine commandLine = commandLine(hoisted);
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
        return commandLine.execute(hoisted);
    }

    /**
     * The command model for this command line: with only the subcommand it names when that is one
     * that runs (its help, usage errors and output are the same as with the whole tree, since
     * picocli looks no further than the named subcommand), or the whole tree for the top-level
     * help, {@code help}, {@code completion} (generated from the whole model) and unknown names.
     */
    private static CommandLine commandLine(String[] args) {
        CommandLine root = new CommandLine(Main.class);
        String named = Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst().orElse(null);
        Class<?> only = named == null || named.equals("help") || named.equals("completion") ? null : SUBCOMMANDS.get(named);
        if (only != null) {
            root.addSubcommand(only);
        } else {
            SUBCOMMANDS.values().forEach(root::addSubcommand);
        }
        return root;
    }

    private static Map<String, Class<?>> subcommands(Class<?>... classes) {
        Map<String, Class<?>> byName = new LinkedHashMap<>();
        for (Class<?> c : classes) {
            byName.put(c.getAnnotation(Command.class).name(), c);
        }
        return byName;
    }

    private static boolean jsonOutput(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        return leaf.hasMatchedOption("--output") && "json".equals(String.valueOf(leaf.matchedOptionValue("--output", "")));
    }
}
