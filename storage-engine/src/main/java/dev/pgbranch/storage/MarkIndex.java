package dev.pgbranch.storage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A timeline's marks in memory: parallel arrays in LSN order, searched by binary search.
 * Appending is amortized O(1), with no copy of the whole list per mark.
 *
 * <p>Times need not grow with LSNs (a clock step back, an explicit mark of a past time): the
 * answer to "the newest LSN at or before time t" is the last mark whose time is at or before t,
 * which is also the last mark whose <em>suffix minimum</em> of times is at or before t; that
 * minimum never decreases along the array, so it is binary-searchable. An append lowers the
 * suffix minimum of the marks before it only while theirs is later than its time (rare).
 *
 * <p>Thinning ({@link #thinned}) bounds the count: with one mark a second while written, a
 * busy timeline would gather ~86,400 a day. Marks below the GC horizon go but the newest one
 * at or below it (it says when readable history begins); of the rest, every mark of the last
 * hour stays, one a minute of the last day, one an hour before that: about 3,700 for a week.
 *
 * <p>Thread-safety: not thread-safe; {@link TimelineImpl} guards it with its marks lock.
 */
final class MarkIndex {

    static final long ALL_WITHIN_SECONDS = 3_600;
    static final long MINUTE_WITHIN_SECONDS = 86_400;

    private long[] lsns = new long[16];
    /** Epoch nanoseconds (Instant fits until 2262). */
    private long[] times = new long[16];
    /** suffixMin[i] = min(times[i..size-1]). */
    private long[] suffixMin = new long[16];
    private String[] wal = new String[16];
    private int size;

    int size() {
        return size;
    }

    long lastLsn() {
        return size == 0 ? Long.MIN_VALUE : lsns[size - 1];
    }

    /** Appends a mark; returns it, or null (and keeps nothing) if its LSN is below the last one's. */
    Timeline.Mark append(Timeline.Mark mark) {
        if (size > 0 && mark.lsn() < lsns[size - 1]) {
            return null;
        }
        if (size == lsns.length) {
            int n = size * 2;
            lsns = Arrays.copyOf(lsns, n);
            times = Arrays.copyOf(times, n);
            suffixMin = Arrays.copyOf(suffixMin, n);
            wal = Arrays.copyOf(wal, n);
        }
        long t = nanos(mark.time());
        lsns[size] = mark.lsn();
        times[size] = t;
        suffixMin[size] = t;
        wal[size] = mark.walPosition();
        for (int j = size - 1; j >= 0 && suffixMin[j] > t; j--) {
            suffixMin[j] = t;
        }
        size++;
        return mark;
    }

    private static long nanos(Instant time) {
        return Math.addExact(Math.multiplyExact(time.getEpochSecond(), 1_000_000_000L), time.getNano());
    }

    private Instant timeAt(int i) {
        return Instant.ofEpochSecond(Math.floorDiv(times[i], 1_000_000_000L), Math.floorMod(times[i], 1_000_000_000L));
    }

    Timeline.Mark get(int i) {
        return new Timeline.Mark(lsns[i], timeAt(i), wal[i]);
    }

    /** The LSN of the newest mark at or before {@code time}. */
    OptionalLong lsnAt(Instant time) {
        long t = nanos(time);
        int low = 0;
        int high = size;
        while (low < high) { // the first mark whose suffix minimum is after t
            int mid = (low + high) >>> 1;
            if (suffixMin[mid] > t) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return low == 0 ? OptionalLong.empty() : OptionalLong.of(lsns[low - 1]);
    }

    /** The oldest mark whose LSN is at or above {@code lsn}. */
    Optional<Timeline.Mark> firstAtOrAbove(long lsn) {
        int low = 0;
        int high = size;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (lsns[mid] < lsn) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low == size ? Optional.empty() : Optional.of(get(low));
    }

    /** Index of the newest mark at or below {@code lsn}, or -1. */
    int newestAtOrBelow(long lsn) {
        int low = 0;
        int high = size;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (lsns[mid] <= lsn) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low - 1;
    }

    /** The marks at or above the newest one at or below {@code horizon}, oldest first. */
    List<Timeline.Mark> from(long horizon) {
        int first = Math.max(0, newestAtOrBelow(horizon));
        List<Timeline.Mark> out = new ArrayList<>(size - first);
        for (int i = first; i < size; i++) {
            out.add(get(i));
        }
        return out;
    }

    /** The marks a thinning at {@code horizon} and {@code now} keeps, oldest first (see the class comment). */
    List<Timeline.Mark> thinned(long horizon, Instant now) {
        int first = Math.max(0, newestAtOrBelow(horizon));
        List<Timeline.Mark> out = new ArrayList<>();
        long lastBucket = Long.MIN_VALUE;
        long lastWidth = 0;
        for (int i = first; i < size; i++) {
            long seconds = Math.floorDiv(times[i], 1_000_000_000L);
            long age = now.getEpochSecond() - seconds;
            boolean keep;
            if (i == first || i == size - 1 || age <= ALL_WITHIN_SECONDS || wal[i] != null) {
                keep = true; // the horizon's mark, the newest, the last hour, and WAL positions
            } else {
                long width = age <= MINUTE_WITHIN_SECONDS ? 60 : 3_600;
                long bucket = Math.floorDiv(seconds, width);
                keep = bucket != lastBucket || width != lastWidth; // the oldest mark of each minute or hour
                lastBucket = bucket;
                lastWidth = width;
            }
            if (keep) {
                out.add(get(i));
            }
        }
        return out;
    }

    /** Replaces the contents (after a thinning was written). */
    void replace(List<Timeline.Mark> marks) {
        size = 0;
        for (Timeline.Mark m : marks) {
            append(m);
        }
    }
}
