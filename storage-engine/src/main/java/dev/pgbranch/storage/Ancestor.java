package dev.pgbranch.storage;

import java.util.Objects;

/** Where a branch came from: its ancestor timeline and the ancestor LSN it sees. */
public record Ancestor(TimelineId timeline, long lsn) {
    public Ancestor {
        Objects.requireNonNull(timeline, "timeline");
        if (lsn < 0) {
            throw new IllegalArgumentException("negative LSN " + lsn);
        }
    }
}
