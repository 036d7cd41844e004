package dev.pgbranch.pageserver.catalog;

import java.io.IOException;

/**
 * The catalog file cannot be used: unreadable, not JSON, truncated, written by a newer
 * version, or inconsistent. The message names the file and the problem; the server refuses to
 * start rather than overwrite (and lose) what the file held.
 */
public final class CatalogException extends IOException {

    /** Why the catalog cannot be used. */
    public enum Reason {
        /** {@code catalog.json} does not exist. */
        MISSING,
        /** The file does not parse, is of an unknown version or breaks an invariant. */
        CORRUPT,
        /** The file is older than the store it describes (a backup put back). */
        OLDER
    }

    private final Reason reason;

    public CatalogException(String message) {
        this(Reason.CORRUPT, message);
    }

    public CatalogException(String message, Throwable cause) {
        this(Reason.CORRUPT, message, cause);
    }

    public CatalogException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public CatalogException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
