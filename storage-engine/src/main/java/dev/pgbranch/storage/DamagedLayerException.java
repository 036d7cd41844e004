package dev.pgbranch.storage;

import java.io.IOException;

/** A listed layer file is missing, truncated or fails its checks at open: its timeline cannot be served. */
final class DamagedLayerException extends IOException {

    private final TimelineId timeline;

    DamagedLayerException(TimelineId timeline, IOException cause) {
        super(cause.getMessage(), cause);
        this.timeline = timeline;
    }

    TimelineId timeline() {
        return timeline;
    }
}
