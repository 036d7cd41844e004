package dev.pgbranch.proxy;

/**
 * A branch's compute cannot be reached for a reason the client must read: {@link #getMessage()}
 * is what it reads in its FATAL error, so it should say what went wrong in words a database user
 * understands, and {@link #sqlState()} is the SQLSTATE of that error: 08006
 * (connection_failure) unless the directory says better, e.g. 53300 (too_many_connections) when a
 * limit is reached or 22007 (invalid_datetime_format) for a point in time it cannot read.
 */
public final class ComputeStartException extends RuntimeException {

    /** connection_failure: the compute could not be started or reached. */
    public static final String CONNECTION_FAILURE = "08006";

    private final String sqlState;

    public ComputeStartException(String reason) {
        this(CONNECTION_FAILURE, reason, null);
    }

    public ComputeStartException(String reason, Throwable cause) {
        this(CONNECTION_FAILURE, reason, cause);
    }

    /**
     * @param sqlState five characters, digits and upper-case letters (Postgres Appendix A)
     */
    public ComputeStartException(String sqlState, String reason, Throwable cause) {
        super(reason, cause);
        if (sqlState == null || !sqlState.matches("[0-9A-Z]{5}")) {
            throw new IllegalArgumentException("not a SQLSTATE: " + sqlState);
        }
        this.sqlState = sqlState;
    }

    /** The SQLSTATE of the client's FATAL error. */
    public String sqlState() {
        return sqlState;
    }

    /** Whether the directory named a SQLSTATE of its own (the message then stands alone). */
    boolean specific() {
        return !CONNECTION_FAILURE.equals(sqlState);
    }
}
