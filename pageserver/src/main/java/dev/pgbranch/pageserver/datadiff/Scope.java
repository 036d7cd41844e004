package dev.pgbranch.pageserver.datadiff;

import org.roaringbitmap.RoaringBitmap;

/**
 * Which part of one table to read on every side: the relation blocks (main fork, numbered across
 * the 1 GB segment files) any side wrote since the common point, or the whole table, with the
 * reason a user reads in the output. Immutable once built (the bitmap is not changed after).
 */
public record Scope(RoaringBitmap blocks, String fullReason) {

    /** Reads only {@code blocks}. */
    public static Scope blocks(RoaringBitmap blocks) {
        return new Scope(blocks, null);
    }

    /** Reads the whole table, because {@code reason}. */
    public static Scope full(String reason) {
        return new Scope(null, reason);
    }

    public boolean isFull() {
        return blocks == null;
    }
}
