package dev.pgbranch.pageserver.datadiff;

import java.util.Objects;

/** The one exception of the data diff: a {@link Code} and the server's SQLSTATE when Postgres refused something. */
public final class DataDiffException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why the data diff failed. */
    public enum Code {
        /** Malformed input: an unknown table, a bad name. */
        BAD_REQUEST,
        /** A side could not be read. */
        READ_FAILED,
        /** Applying the SQL failed; rolled back. */
        APPLY_FAILED
    }

    private final Code code;
    private final String sqlState;

    public DataDiffException(Code code, String message, String sqlState, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
        this.sqlState = sqlState;
    }

    public Code code() {
        return code;
    }

    public String sqlState() {
        return sqlState;
    }
}
