package dev.pgbranch.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * The versions one mutating call writes, all at one LSN: the unit of atomicity of the ingest
 * log (one record) and of visibility (published together by advancing the timeline's last LSN).
 *
 * <p>Thread-safety: none; built by the one writer of a timeline, then only read.
 */
final class Batch {

    private final List<Put> puts = new ArrayList<>();

    record Put(long inode, long block, Object value) {
    }

    Batch put(long inode, long block, Object value) {
        puts.add(new Put(inode, block, value));
        return this;
    }

    List<Put> puts() {
        return puts;
    }

    boolean isEmpty() {
        return puts.isEmpty();
    }

    long weight() {
        long w = 0;
        for (Put p : puts) {
            w += 24 + ValueCodec.weight(p.value());
        }
        return w;
    }
}
