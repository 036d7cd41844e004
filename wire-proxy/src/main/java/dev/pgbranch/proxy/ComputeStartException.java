package dev.pgbranch.proxy;

/**
 * A compute could not be started; {@link #getMessage()} is the reason a client will read in its FATAL
 * 08006 error, so it should say what went wrong in words a database user understands.
 */
public final class ComputeStartException extends RuntimeException {

    public ComputeStartException(String reason) {
        super(reason);
    }

    public ComputeStartException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
