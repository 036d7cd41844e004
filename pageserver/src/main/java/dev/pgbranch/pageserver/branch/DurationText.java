package dev.pgbranch.pageserver.branch;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the durations users type: {@code 90s}, {@code 30m}, {@code 8h}, {@code 7d} (a leading
 * {@code -} is read too, so that callers can say "negative" rather than "unreadable"), or
 * ISO-8601 ({@code PT8H}, {@code P7D}). What a duration may be (positive, bounded) is each
 * caller's rule.
 *
 * <p>Stateless and thread-safe.
 */
public final class DurationText {

    private static final Pattern SHORT = Pattern.compile("(-?\\d{1,9})\\s*([smhd])");

    private DurationText() {
    }

    /** The duration, or empty if {@code text} is none of the accepted forms. */
    public static Optional<Duration> read(String text) {
        String trimmed = text.strip();
        Matcher m = SHORT.matcher(trimmed);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return Optional.of(switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            });
        }
        try {
            return Optional.of(Duration.parse(trimmed));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
