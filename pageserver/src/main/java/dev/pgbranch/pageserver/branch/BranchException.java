package dev.pgbranch.pageserver.branch;

import java.util.Objects;

/**
 * The one exception branch operations throw at the API boundary: a {@link ErrorCode} and a
 * message written for the user (what is wrong and, where there is one, what to do instead).
 */
public final class BranchException extends RuntimeException {

    private final ErrorCode code;

    public BranchException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public BranchException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }
}
