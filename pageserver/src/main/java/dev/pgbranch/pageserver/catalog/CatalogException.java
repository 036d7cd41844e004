package dev.pgbranch.pageserver.catalog;

import java.io.IOException;

/**
 * The catalog file cannot be used: unreadable, not JSON, truncated, written by a newer
 * version, or inconsistent. The message names the file and the problem; the server refuses to
 * start rather than overwrite (and lose) what the file held.
 */
public final class CatalogException extends IOException {

    public CatalogException(String message) {
        super(message);
    }

    public CatalogException(String message, Throwable cause) {
        super(message, cause);
    }
}
