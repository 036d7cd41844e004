package dev.pgbranch.pageserver.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the durations users type: {@code 90s}, {@code 30m}, {@code 8h}, {@code 7d}, or ISO-8601 {@code PT8H}. */
final class Durations {

    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})\\s*([smhd])");

    private Durations() {
    }

    static Duration parse(String text) {
        String trimmed = text.strip();
        Matcher m = SHORT.matcher(trimmed);
        Duration duration;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            duration = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } else {
            try {
                duration = Duration.parse(trimmed);
            } catch (DateTimeParseException e) {
                throw new CliException(CliException.USAGE, "cannot read duration '" + text + "': use 90s, 30m, 8h, 7d or PT8H");
            }
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new CliException(CliException.USAGE, "duration '" + text + "' must be positive");
        }
        return duration;
    }
}
