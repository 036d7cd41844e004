package dev.pgbranch.storage;

import java.io.IOException;

/**
 * Classifies I/O failures. The JDK reports errno only as the message text of an IOException
 * (strerror), so this one place reads it, walking the cause chain; everything else asks here.
 */
final class DiskErrors {

    /** strerror(ENOSPC) on Linux, as the JDK puts it in the exception message. */
    static final String ENOSPC_TEXT = "No space left on device";

    private DiskErrors() {
    }

    static boolean isNoSpace(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NamespaceException n && n.reason() == NamespaceException.Reason.NO_SPACE) {
                return true;
            }
            if (t.getMessage() != null && t.getMessage().contains(ENOSPC_TEXT)) {
                return true;
            }
        }
        return false;
    }
}
