package dev.pgbranch.pageserver.branch;

import dev.pgbranch.storage.Lsn;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * A user's "at" argument: either a pgbranch timeline LSN in Postgres's {@code X/Y} hex notation
 * (as shown in a branch's {@code headLsn} / {@code parentLsn}), or an ISO-8601 time with an
 * offset ({@code 2026-11-20T10:00Z}, {@code 2026-11-20T10:00:00.5+01:00}).
 *
 * <p>Immutable; exactly one of {@link #lsn} (when {@link #isLsn}) and {@link #time} is set.
 */
record PointInTime(boolean isLsn, long lsn, Instant time) {

    private static final Pattern LSN = Pattern.compile("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}");

    /** Parses the argument; {@link BranchException} BAD_REQUEST with an example otherwise. */
    static PointInTime parse(String text) {
        if (text == null || text.isBlank()) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "'at' is empty: give an LSN like 0/16B3748 or a time like 2026-11-20T10:00:00Z");
        }
        String trimmed = text.strip();
        if (LSN.matcher(trimmed).matches()) {
            return new PointInTime(true, Lsn.parse(trimmed), null);
        }
        try {
            return new PointInTime(false, 0, OffsetDateTime.parse(trimmed).toInstant());
        } catch (DateTimeParseException e) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "cannot read '" + trimmed
                    + "' as a point in time: give an LSN like 0/16B3748 or an ISO-8601 time with offset like 2026-11-20T10:00:00Z");
        }
    }

    @Override
    public String toString() {
        return isLsn ? Lsn.format(lsn) : time.toString();
    }
}
