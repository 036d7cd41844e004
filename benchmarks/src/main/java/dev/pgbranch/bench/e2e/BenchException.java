package dev.pgbranch.bench.e2e;

/**
 * A benchmark step failed (a command exited non-zero, a server did not start, an API call was
 * refused): the run stops, everything it started is cleaned up, and the message says which step
 * and why.
 */
public final class BenchException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BenchException(String message) {
        super(message);
    }

    public BenchException(String message, Throwable cause) {
        super(message, cause);
    }
}
