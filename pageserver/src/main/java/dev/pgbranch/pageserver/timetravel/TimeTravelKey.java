package dev.pgbranch.pageserver.timetravel;

import dev.pgbranch.pageserver.branch.RoutingName;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.TimelineId;

import java.util.Objects;
import java.util.Optional;

/**
 * The identity of one time-travel compute: a branch, the timeline it had when the point was
 * resolved, and the LSN in it. Two connections with equal keys share a compute, whether they
 * named the point as a time or as an LSN. Its text is the name the proxy tracks the compute by:
 *
 * <pre>
 *   &lt;routing name&gt;@&lt;LSN&gt;#&lt;timeline&gt;      dev/alex@0/16B3748#0f1e...(32 hex digits)
 * </pre>
 *
 * The timeline is part of it because a branch reset or restored since has another timeline whose
 * LSNs overlap the old one's. A client cannot send this text itself: {@code '#'} is no part of a
 * point in time. Immutable.
 */
record TimeTravelKey(RoutingName name, TimelineId timeline, long lsn) {

    TimeTravelKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(timeline, "timeline");
    }

    /** The key's text, empty if {@code text} is not one (a plain branch name, say). */
    static Optional<TimeTravelKey> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        int at = text.indexOf('@');
        int hash = text.lastIndexOf('#');
        if (at < 0 || hash < at) {
            return Optional.empty();
        }
        try {
            Optional<RoutingName> name = RoutingName.parse(text.substring(0, at));
            if (name.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new TimeTravelKey(name.get(), TimelineId.parse(text.substring(hash + 1)),
                    Lsn.parse(text.substring(at + 1, hash))));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The compute's key in the compute manager: never that of a branch ({@code '@'} is in no
     * branch name) nor of a schema review's base ({@code #base}).
     */
    String computeKey() {
        return name.project() + "." + name.branch().value().replace('/', '+') + "@" + Lsn.format(lsn) + "#" + timeline;
    }

    @Override
    public String toString() {
        return name + "@" + Lsn.format(lsn) + "#" + timeline;
    }
}
