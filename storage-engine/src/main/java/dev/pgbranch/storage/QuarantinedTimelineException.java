package dev.pgbranch.storage;

/**
 * The timeline exists but the store holds it back from serving: one of its files (or one of
 * its ancestors'), or the part of the ingest log it wrote, failed verification at open. Its
 * files are kept as they were; {@link PageStore#quarantined()} says why, and an operator decides
 * (see {@link StoreRepair}).
 */
public final class QuarantinedTimelineException extends IllegalStateException {

    private final TimelineId id;
    private final String reason;

    public QuarantinedTimelineException(TimelineId id, String reason) {
        super("timeline " + id + " is quarantined: " + reason);
        this.id = id;
        this.reason = reason;
    }

    public TimelineId id() {
        return id;
    }

    public String reason() {
        return reason;
    }
}
