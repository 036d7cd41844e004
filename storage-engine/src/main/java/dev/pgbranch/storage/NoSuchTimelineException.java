package dev.pgbranch.storage;

/** The timeline does not exist (never created, or deleted). */
public final class NoSuchTimelineException extends IllegalArgumentException {

    public NoSuchTimelineException(TimelineId id) {
        super("no such timeline: " + id);
    }
}
