package dev.pgbranch.pageserver.timetravel;

/**
 * A time-travel connection is refused; the message is what the client reads in its FATAL error
 * and {@link #sqlState()} its SQLSTATE.
 */
public final class TimeTravelException extends RuntimeException {

    /** The point cannot be read as an LSN or a time. */
    public static final String INVALID_DATETIME_FORMAT = "22007";
    /** The point is readable but names no state that can be shown (future, before the branch, collected). */
    public static final String INVALID_PARAMETER_VALUE = "22023";
    /** As many time-travel computes run as allowed. */
    public static final String TOO_MANY_CONNECTIONS = "53300";
    /** The compute could not be started. */
    public static final String CONNECTION_FAILURE = "08006";

    private final String sqlState;

    TimeTravelException(String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
