package dev.pgbranch.pageserver.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * {@code pgbranch env <branch> [--file .env] [--variable DATABASE_URL]}: points an application at a
 * branch by writing the branch's connection string (the one {@code pgbranch connect} prints) into
 * its {@code .env} file, touching only the variable's own lines ({@link DotEnvFile}). Prints what it
 * did, never the password.
 */
@Command(name = "env", mixinStandardHelpOptions = true,
        description = "Write the branch's connection string as DATABASE_URL into an app's .env file (only that "
                + "variable's lines change; a new file is created 0600).")
final class EnvCommand extends ClientCommand {

    private static final Pattern VARIABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
    String name;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", defaultValue = ".env",
            description = "The .env file (default: ${DEFAULT-VALUE} in the current directory).")
    Path file;

    @Option(names = "--variable", paramLabel = "NAME", defaultValue = "DATABASE_URL",
            description = "The variable to set (default: ${DEFAULT-VALUE}).")
    String variable;

    @Override
    void run(ApiClient client) {
        if (!VARIABLE.matcher(variable).matches()) {
            throw new CliException(CliException.USAGE, "--variable: '" + variable + "' is not a variable name "
                    + "(letters, digits and _, not starting with a digit)");
        }
        String uri = client.get(branchPath(name) + "/connection").path("uri").asText("");
        if (uri.isEmpty()) {
            throw new CliException(CliException.REFUSED, "the server gave no connection string for " + name);
        }
        DotEnvFile.Change change;
        try {
            change = DotEnvFile.set(file, variable, uri);
        } catch (IOException e) {
            throw new CliException(CliException.REFUSED, "cannot update " + file + ": " + e);
        }
        String verb = switch (change) {
            case CREATED -> "created " + file + " with ";
            case UPDATED -> "updated ";
            case APPENDED -> "added ";
            case UNCHANGED -> "already set: ";
        };
        out().println(verb + variable + (change == DotEnvFile.Change.CREATED ? "" : " in " + file)
                + " for branch " + name);
        out().flush();
    }
}
