package dev.pgbranch.storage;

import java.security.SecureRandom;
import java.util.HexFormat;

/** A timeline's identity: 128 random bits, written as 32 lowercase hex digits. */
public record TimelineId(long high, long low) implements Comparable<TimelineId> {

    private static final SecureRandom RANDOM = new SecureRandom();

    public static TimelineId random() {
        return new TimelineId(RANDOM.nextLong(), RANDOM.nextLong());
    }

    /** Parses the 32-hex-digit form; {@link IllegalArgumentException} otherwise. */
    public static TimelineId parse(String hex) {
        if (hex == null || hex.length() != 32) {
            throw new IllegalArgumentException("a timeline id is 32 hex digits: " + hex);
        }
        return new TimelineId(HexFormat.fromHexDigitsToLong(hex, 0, 16),
                HexFormat.fromHexDigitsToLong(hex, 16, 32));
    }

    @Override
    public int compareTo(TimelineId other) {
        int c = Long.compareUnsigned(high, other.high);
        return c != 0 ? c : Long.compareUnsigned(low, other.low);
    }

    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return hex.toHexDigits(high) + hex.toHexDigits(low);
    }
}
