package dev.pgbranch.storage;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bounded cache of values decoded from layer files, keyed by (layer file, index entry): layer
 * files are immutable, so an entry never goes stale. LRU by weight in independent stripes, so
 * concurrent readers of different pages rarely contend.
 *
 * <p>Thread-safety: thread-safe.
 */
final class PageCache {

    private static final int STRIPES = 16;

    record Key(long file, int entry) {
    }

    private final Stripe[] stripes = new Stripe[STRIPES];
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    PageCache(long capacityBytes) {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe(capacityBytes / STRIPES);
        }
    }

    private Stripe stripe(Key key) {
        int h = Long.hashCode(key.file * 31 + key.entry);
        h ^= h >>> 16;
        return stripes[h & (STRIPES - 1)];
    }

    Object get(Key key) {
        Object v = stripe(key).get(key);
        if (v != null) {
            hits.increment();
        } else {
            misses.increment();
        }
        return v;
    }

    void put(Key key, Object value) {
        stripe(key).put(key, value, ValueCodec.weight(value));
    }

    long hits() {
        return hits.sum();
    }

    long misses() {
        return misses.sum();
    }

    /** Drops every entry of a layer file that is gone. */
    void evictFile(long file) {
        for (Stripe s : stripes) {
            s.evictFile(file);
        }
    }

    private static final class Stripe {
        private final long capacity;
        private long weight;
        private final LinkedHashMap<Key, Object> map = new LinkedHashMap<>(64, 0.75f, true);

        Stripe(long capacity) {
            this.capacity = capacity;
        }

        synchronized Object get(Key key) {
            return map.get(key);
        }

        synchronized void put(Key key, Object value, int w) {
            if (w > capacity) {
                return;
            }
            Object old = map.put(key, value);
            if (old != null) {
                weight -= ValueCodec.weight(old);
            }
            weight += w;
            var it = map.entrySet().iterator();
            while (weight > capacity && it.hasNext()) {
                Map.Entry<Key, Object> eldest = it.next();
                weight -= ValueCodec.weight(eldest.getValue());
                it.remove();
            }
        }

        synchronized void evictFile(long file) {
            var it = map.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<Key, Object> e = it.next();
                if (e.getKey().file == file) {
                    weight -= ValueCodec.weight(e.getValue());
                    it.remove();
                }
            }
        }
    }
}
