package dev.pgbranch.pageserver.branch;

/**
 * Why a branch operation was refused or failed. The API maps each code to one HTTP status and
 * puts the code's name in the error JSON, so clients can branch on it.
 */
public enum ErrorCode {
    /** Malformed input: a bad branch name, an unparsable point in time, a missing field. */
    BAD_REQUEST,
    /** The project or branch does not exist. */
    NOT_FOUND,
    /** The branch already exists, or the request conflicts with the current state. */
    CONFLICT,
    /** The branch is protected against delete, reset and restore. */
    PROTECTED,
    /** The branch has child branches and cannot be deleted. */
    HAS_CHILDREN,
    /** The branch's Postgres compute could not be started (the message says why). */
    COMPUTE_FAILED,
    /**
     * The store holds the branch's timeline back from serving: a file of it failed its checks
     * (the message says which); nothing was deleted. See {@code pgbranch store verify}.
     */
    QUARANTINED,
    /** An unexpected failure of the server (storage I/O...); details are in the server log. */
    INTERNAL
}
