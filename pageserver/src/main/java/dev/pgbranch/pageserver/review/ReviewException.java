package dev.pgbranch.pageserver.review;

import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.schema.SchemaException;

import java.util.Objects;

/**
 * The one exception of schema review at the API boundary: a {@link Code} that maps to one HTTP
 * status, a message written for the user, and the Postgres SQLSTATE when a server refused
 * something.
 */
public final class ReviewException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why a diff or promote was refused or failed, with its HTTP status. */
    public enum Code {
        /** Malformed input: unknown format, a root branch without {@code against}, a bad name. */
        BAD_REQUEST(400),
        /** Unknown project, branch or database. */
        NOT_FOUND(404),
        /** Objects changed on both sides since the branch point; or databases that cannot be promoted. */
        CONFLICT(409),
        /** Promote into a protected parent without force. */
        PROTECTED(409),
        /** A migration statement failed on the parent (rolled back, see the message). */
        APPLY_FAILED(409),
        /** The parent's history at the branch point cannot be read any more. */
        BASE_UNAVAILABLE(409),
        /** After the promote the parent still differs from the branch in a promoted object. */
        VERIFY_FAILED(500),
        /** A database could not be reached or its catalog could not be read. */
        INTROSPECTION_FAILED(502),
        /** A compute (a branch's, or the base's) could not be started. */
        COMPUTE_FAILED(503),
        /** An unexpected failure of the server (storage I/O); details in the server log. */
        INTERNAL(500);

        private final int httpStatus;

        Code(int httpStatus) {
            this.httpStatus = httpStatus;
        }

        public int httpStatus() {
            return httpStatus;
        }
    }

    private final Code code;
    private final String sqlState;

    public ReviewException(Code code, String message) {
        this(code, message, null, null);
    }

    public ReviewException(Code code, String message, String sqlState, Throwable cause) {
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

    /** The schema library's failure, same message, mapped to a review code. */
    static ReviewException of(SchemaException e) {
        Code code = switch (e.code()) {
            case BAD_REQUEST -> Code.BAD_REQUEST;
            case INTROSPECTION_FAILED -> Code.INTROSPECTION_FAILED;
            case CONFLICT -> Code.CONFLICT;
            case PROTECTED -> Code.PROTECTED;
            case APPLY_FAILED -> Code.APPLY_FAILED;
            case VERIFY_FAILED -> Code.VERIFY_FAILED;
        };
        return new ReviewException(code, e.getMessage(), e.sqlState(), e);
    }

    /** The branch service's failure, same message, mapped to a review code. */
    static ReviewException of(BranchException e) {
        Code code = switch (e.code()) {
            case BAD_REQUEST -> Code.BAD_REQUEST;
            case NOT_FOUND -> Code.NOT_FOUND;
            case CONFLICT, HAS_CHILDREN -> Code.CONFLICT;
            case PROTECTED -> Code.PROTECTED;
            case COMPUTE_FAILED, QUARANTINED -> Code.COMPUTE_FAILED;
            case INTERNAL -> Code.INTERNAL;
        };
        return new ReviewException(code, e.getMessage(), null, e);
    }
}
