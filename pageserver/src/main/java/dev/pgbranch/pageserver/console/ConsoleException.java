package dev.pgbranch.pageserver.console;

/**
 * The one exception of the console's own routes: a {@link Code} with its HTTP status, a message
 * written for the user, and the SQLSTATE when Postgres refused something.
 */
final class ConsoleException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    enum Code {
        /** Malformed request: unknown field, limit out of range, bad point in time. */
        BAD_REQUEST(400),
        /** No session, an expired one, or a wrong token at login. */
        UNAUTHORIZED(401),
        /** A mutating request without the session's CSRF token, a foreign Origin or Host. */
        FORBIDDEN(403),
        /** The branch's Postgres could not be reached (compute start failed, login refused). */
        CONNECT_FAILED(502);

        final int httpStatus;

        Code(int httpStatus) {
            this.httpStatus = httpStatus;
        }
    }

    private final Code code;
    private final String sqlState;

    ConsoleException(Code code, String message) {
        this(code, message, null, null);
    }

    ConsoleException(Code code, String message, String sqlState, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.sqlState = sqlState;
    }

    Code code() {
        return code;
    }

    String sqlState() {
        return sqlState;
    }
}
