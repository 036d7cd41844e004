package dev.pgbranch.pageserver.cli;

/**
 * A command failed for a reason the user must see: the message is printed as is, the exit code
 * returned by the process.
 */
final class CliException extends RuntimeException {

    /** The server refused the request (4xx) or failed (5xx). */
    static final int REFUSED = 1;
    /** Bad command line (picocli's own usage errors use 2 too). */
    static final int USAGE = 2;
    /** No server could be reached. */
    static final int UNREACHABLE = 3;

    private final int exitCode;
    private final String json;

    CliException(int exitCode, String message) {
        this(exitCode, message, null);
    }

    /** @param json the server's error document, printed instead of the message with {@code --output json} */
    CliException(int exitCode, String message, String json) {
        super(message);
        this.exitCode = exitCode;
        this.json = json;
    }

    int exitCode() {
        return exitCode;
    }

    String json() {
        return json;
    }
}
