package dev.pgbranch.storage;

/**
 * LSNs are plain {@code long}s (monotonic per timeline, a child continuing from its ancestor
 * LSN); this class only formats and parses them in Postgres's {@code X/Y} notation.
 */
public final class Lsn {

    /** No LSN: below every real one. */
    public static final long INVALID = 0;

    private Lsn() {
    }

    /** {@code 0x16B3748} → {@code "0/16B3748"}. */
    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/"
                + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase();
    }

    /** Parses {@code "0/16B3748"}; {@link IllegalArgumentException} on anything else. */
    public static long parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 1 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("not an LSN (expected X/Y in hex): " + text);
        }
        try {
            long high = Long.parseLong(text, 0, slash, 16);
            long low = Long.parseLong(text, slash + 1, text.length(), 16);
            return high << 32 | low;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an LSN (expected X/Y in hex): " + text, e);
        }
    }
}
