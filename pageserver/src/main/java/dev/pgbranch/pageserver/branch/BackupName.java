package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.BranchName;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.function.Predicate;

/**
 * The name of the branch a restore keeps the previous state in:
 * {@code <name>_old_<UTC yyyyMMdd'T'HHmmss'Z'>}, e.g. {@code dev/alex_old_20261124T081500Z}.
 * When that name is taken (two restores in one second) {@code _2}, {@code _3}... is appended;
 * when it would pass {@link BranchName#MAX_BYTES}, the original name is shortened (whole code
 * points), so the suffix, which says what the branch is, always survives.
 *
 * <p>Stateless and thread-safe.
 */
final class BackupName {

    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private BackupName() {
    }

    /** The first free backup name of {@code name} at {@code time}; {@code taken} says which names exist. */
    static BranchName of(BranchName name, Instant time, Predicate<BranchName> taken) {
        String suffix = "_old_" + STAMP.format(time);
        for (int n = 1; ; n++) {
            String full = n == 1 ? suffix : suffix + "_" + n;
            BranchName candidate = BranchName.of(shorten(name.value(), BranchName.MAX_BYTES - full.length()) + full);
            if (!taken.test(candidate)) {
                return candidate;
            }
        }
    }

    /** {@code value} cut to at most {@code maxBytes} UTF-8 bytes on a code point boundary. */
    private static String shorten(String value, int maxBytes) {
        if (value.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
            return value;
        }
        StringBuilder out = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < value.length(); ) {
            int cp = value.codePointAt(i);
            int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + size > maxBytes) {
                break;
            }
            out.appendCodePoint(cp);
            bytes += size;
            i += Character.charCount(cp);
        }
        return out.toString();
    }
}
