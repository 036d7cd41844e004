package dev.pgbranch.storage;

import java.io.IOException;

/**
 * A namespace operation refused for a reason a filesystem maps to an errno (the FUSE layer
 * turns {@link #reason()} into {@code -errno}); the store itself is fine.
 */
public final class NamespaceException extends IOException {

    /** Why, named after the errno it maps to. */
    public enum Reason {
        /** ENOENT */ NOT_FOUND,
        /** EEXIST */ EXISTS,
        /** ENOTDIR */ NOT_A_DIRECTORY,
        /** EISDIR */ IS_A_DIRECTORY,
        /** ENOTEMPTY */ NOT_EMPTY,
        /** EINVAL: empty, ".", "..", containing '/' or NUL, or over 255 bytes */ INVALID_NAME,
        /** EINVAL: e.g. renaming a directory into itself, negative offset */ INVALID_ARGUMENT,
        /** EFBIG */ FILE_TOO_LARGE,
        /** ENOSPC */ NO_SPACE
    }

    private final Reason reason;

    public NamespaceException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
