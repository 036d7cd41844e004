package dev.pgbranch.pageserver.schema;

import java.util.Objects;

/**
 * The one exception of the schema package's API. {@link #code()} tells the API layer which HTTP
 * status and error code to answer with; {@link #sqlState()} carries the server's SQLSTATE when
 * Postgres refused something.
 */
public final class SchemaException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why the operation failed. */
    public enum Code {
        /** Malformed input (unknown format, missing connection). HTTP 400. */
        BAD_REQUEST,
        /** A database could not be reached or its catalog could not be read. HTTP 502/503. */
        INTROSPECTION_FAILED,
        /** Promote found objects changed on both sides. HTTP 409. */
        CONFLICT,
        /** Promote into a protected parent without force. HTTP 409. */
        PROTECTED,
        /** A migration statement failed; the transaction was rolled back. HTTP 409/422. */
        APPLY_FAILED,
        /** After applying, the target still differs from the wanted schema; rolled back. HTTP 500. */
        VERIFY_FAILED
    }

    private final Code code;
    private final String sqlState;

    public SchemaException(Code code, String message) {
        this(code, message, null, null);
    }

    public SchemaException(Code code, String message, String sqlState, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
        this.sqlState = sqlState;
    }

    public Code code() {
        return code;
    }

    /** The Postgres SQLSTATE behind the failure, or null. */
    public String sqlState() {
        return sqlState;
    }
}
