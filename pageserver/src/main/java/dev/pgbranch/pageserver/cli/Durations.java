package dev.pgbranch.pageserver.cli;

import dev.pgbranch.pageserver.branch.DurationText;
import java.time.Duration;

/** Parses the durations users type: {@code 90s}, {@code 30m}, {@code 8h}, {@code 7d}, or ISO-8601 {@code PT8H}. */
final class Durations {

    private Durations() {
    }

    static Duration parse(String text) {
        Duration duration = DurationText.read(text).orElseThrow(() -> new CliException(CliException.USAGE,
                "cannot read duration '" + text + "': use 90s, 30m, 8h, 7d or PT8H"));
        if (duration.isNegative() || duration.isZero()) {
            throw new CliException(CliException.USAGE, "duration '" + text + "' must be positive");
        }
        return duration;
    }
}
