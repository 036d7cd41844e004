package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.Project;

import java.time.Duration;

/**
 * The text form of a project's retention window, as users type it and as the API and CLI show
 * it: {@code 7d}, {@code 12h}, {@code 30m}, {@code 90s}, {@code 0s}, or ISO-8601 ({@code PT8H},
 * {@code P7D}). Zero is allowed (keep no history beyond the branch points and the heads);
 * negative windows and windows over {@link Project#MAX_RETENTION} are refused.
 *
 * <p>Stateless and thread-safe.
 */
public final class Retention {

    private Retention() {
    }

    /** Parses a window; {@link BranchException} BAD_REQUEST saying what is accepted otherwise. */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "retention is empty: give a duration like 7d, 12h, 30m or 0s");
        }
        String trimmed = text.strip();
        Duration window = DurationText.read(trimmed).orElseThrow(() -> new BranchException(ErrorCode.BAD_REQUEST,
                "cannot read retention '" + trimmed + "': give a duration like 7d, 12h, 30m, 90s, 0s or ISO-8601 PT8H"));
        if (window.isNegative()) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "retention '" + trimmed + "' is negative");
        }
        if (window.compareTo(Project.MAX_RETENTION) > 0) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "retention '" + trimmed + "' is over the limit of "
                    + Project.MAX_RETENTION.toDays() + "d");
        }
        return window;
    }

    /** The shortest exact text form: {@code 7d}, {@code 36h}, {@code 90m}, {@code 45s}, else ISO-8601. */
    public static String format(Duration window) {
        if (window.getNano() != 0) {
            return window.toString();
        }
        long seconds = window.getSeconds();
        if (seconds != 0 && seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds != 0 && seconds % 3_600 == 0) {
            return seconds / 3_600 + "h";
        }
        if (seconds != 0 && seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
