package dev.pgbranch.pageserver.compute;

/**
 * A compute could not be initialized, started or reached. The message is written for the user
 * (it ends up in API errors and FATAL messages), e.g. the tail of the Postgres log on a failed
 * start.
 */
public final class ComputeException extends Exception {

    public ComputeException(String message) {
        super(message);
    }

    public ComputeException(String message, Throwable cause) {
        super(message, cause);
    }
}
