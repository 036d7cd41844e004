package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.PriorityQueue;
import org.agrona.collections.Long2LongHashMap;

/**
 * Compaction and garbage collection of one timeline: merges a snapshot of its layer files into
 * one layer file, dropping every version no reader can reach.
 *
 * <p>The rule. Let {@code H'} be {@code min(horizon, highest LSN of the inputs)} and {@code Q}
 * the retained points: {@code H'} plus every branch point below it of a live child. A version
 * {@code v} of a key is kept iff {@code lsn(v) > H'}, or {@code v} is the newest version at or
 * below some {@code q} in {@code Q}. A page version (block &ge; 0, a page or a ZERO_PAGE
 * tombstone) kept only for points {@code q} is dropped anyway when, at every such {@code q}, its
 * inode is absent (unlinked, never created) or the block lies at or past the file's end: no read
 * at {@code q} looks at it. That is what frees dropped tables and truncated pages. At the bottom
 * of a lineage (a root timeline's merge that includes its oldest file), a tombstone (DELETED,
 * ZERO_PAGE) kept only for points with no older version kept is dropped as well: there, a
 * missing key reads exactly as the tombstone does (absent inode, empty listing, zero page).
 *
 * <p>Why dropping such a page can never be noticed at an LSN {@code y > H'} (readers above the
 * horizon see the newest version at or below {@code y}; if none of the key lies in
 * {@code (H', y]}, that is the newest at or below {@code H'}, the one dropped):
 * <ul>
 *   <li>inode numbers are never reused within a lineage (the counter is versioned and inherited
 *       by branches), so an inode absent at {@code H'} is absent at every later LSN (it was
 *       unlinked) or was created later (then it has no version at or below {@code H'});</li>
 *   <li>a file grows only by write or truncate, and growing writes, in the same mutation, every
 *       block between the old end and the new one below the inode's high-water mark (data or a
 *       ZERO_PAGE tombstone); a block that ever held a version lies below that mark, so by the
 *       time the block is inside the file again at {@code y} it has a version in
 *       {@code (H', y]} that shadows the dropped one.</li>
 * </ul>
 * Children branched at {@code p < H'} read this timeline exactly at {@code p} (deeper
 * descendants read it at their chain's minimum, which is such a {@code p}), and {@code p} is in
 * {@code Q}; a child at {@code p >= H'} reads either a version above {@code H'} or the newest at
 * or below {@code H'}, both kept.
 *
 * <p>How. Pass one merges the inputs' in-memory indexes by (inode, block, LSN) (the inputs have
 * disjoint LSN ranges, so one key's versions come oldest first) and marks the versions to keep;
 * it reads no value. Pass two merges again and copies the kept versions' stored bytes as they
 * are (compressed, CRC carried over and verified) through a {@link MergeWriter}, reading each
 * input sequentially through a small window: heap use is independent of the timeline's size.
 *
 * <p>Thread-safety: one merge per timeline at a time (the caller holds the timeline's
 * compaction lock); the inputs are immutable, and the inode lookups at {@code q} read history
 * that no writer changes any more.
 */
final class LayerMerge {

    private static final int WINDOW_BYTES = 256 * 1024;

    /** Answers, for the page rule, the size of a file at an LSN (-1 if it is not a live file there). */
    interface Sizes {
        long fileSizeAt(long inode, long lsn) throws IOException;
    }

    /**
     * What a merge would do (pass one).
     *
     * @param keep per input, the index entries to keep
     * @param image whether every key keeps exactly one version, at or below {@code H'}
     */
    record Plan(List<LayerFile> inputs, long horizon, long[] points, BitSet[] keep, long kept, long dropped,
                boolean image) {
    }

    private LayerMerge() {
    }

    /**
     * Plans the merge of {@code inputs} (newest first, as in the timeline's layers).
     *
     * @param horizon the timeline's GC horizon (0: keep every version)
     * @param childPoints branch points of live children (any order, duplicates allowed)
     */
    static Plan plan(List<LayerFile> inputs, long horizon, long[] childPoints, Sizes sizes, boolean bottom)
            throws IOException {
        long maxLsn = Long.MIN_VALUE;
        for (LayerFile f : inputs) {
            maxLsn = Math.max(maxLsn, f.maxLsn());
        }
        long hPrime = Math.min(horizon, maxLsn);
        long[] points = Arrays.stream(childPoints).filter(p -> p < hPrime).sorted().distinct().toArray();
        points = Arrays.copyOf(points, points.length + 1);
        points[points.length - 1] = hPrime;

        BitSet[] keep = new BitSet[inputs.size()];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = new BitSet(inputs.get(i).entryCount());
        }
        KeyPlanner planner = new KeyPlanner(inputs, hPrime, points, keep, sizes, bottom);
        IndexMerge merge = new IndexMerge(inputs);
        while (merge.next()) {
            planner.add(merge.file(), merge.entry());
        }
        planner.finishKey();
        return new Plan(inputs, hPrime, points, keep, planner.kept, planner.dropped, planner.image);
    }

    /**
     * Writes the kept versions of {@code plan} to {@code file} and returns its size.
     *
     * @throws IOException naming the input file and offset if a value fails its checksum
     */
    static long write(Plan plan, Path file, TimelineId timeline, boolean fsync, Disk disk) throws IOException {
        List<LayerFile> inputs = plan.inputs();
        long minLsn = Long.MAX_VALUE;
        long maxLsn = Long.MIN_VALUE;
        Window[] windows = new Window[inputs.size()];
        for (int i = 0; i < windows.length; i++) {
            LayerFile f = inputs.get(i);
            minLsn = Math.min(minLsn, f.minLsn());
            maxLsn = Math.max(maxLsn, f.maxLsn());
            windows[i] = new Window(f);
        }
        try (MergeWriter out = new MergeWriter(file, timeline, fsync, disk)) {
            IndexMerge merge = new IndexMerge(inputs);
            while (merge.next()) {
                int fi = merge.file();
                int e = merge.entry();
                if (!plan.keep()[fi].get(e)) {
                    continue;
                }
                LayerFile f = inputs.get(fi);
                Window w = windows[fi];
                int length = f.storedLength(e);
                int at = w.load(f.valueOffset(e), length);
                if (!f.valueMatches(e, w.bytes, at)) {
                    throw f.valueCorrupt(e);
                }
                out.add(f.inode(e), f.block(e), f.lsn(e), f.valueKind(e), f.encoding(e), f.valueCrc(e), w.bytes, at,
                        length);
            }
            if (out.count() != plan.kept()) {
                throw new IllegalStateException("merge wrote " + out.count() + " versions, planned " + plan.kept());
            }
            return out.finish(plan.image() ? LayerFormat.KIND_IMAGE : LayerFormat.KIND_DELTA, minLsn, maxLsn);
        }
    }

    /** Decides, key by key, which versions to keep (pass one). */
    private static final class KeyPlanner {
        private final List<LayerFile> inputs;
        private final long hPrime;
        private final long[] points;
        private final BitSet[] keep;
        private final Sizes sizes;
        /** Whether nothing lies under the inputs (no older file, no ancestor). */
        private final boolean bottom;
        /** Sizes at the retained points of the current inode (-1: not a live file). */
        private final Long2LongHashMap sizeCache = new Long2LongHashMap(Long.MIN_VALUE);
        private long cachedInode = Long.MIN_VALUE;

        private int[] files = new int[16];
        private int[] entries = new int[16];
        private int count;
        private long inode;
        private long block;
        long kept;
        long dropped;
        boolean image = true;

        KeyPlanner(List<LayerFile> inputs, long hPrime, long[] points, BitSet[] keep, Sizes sizes, boolean bottom) {
            this.inputs = inputs;
            this.hPrime = hPrime;
            this.points = points;
            this.keep = keep;
            this.sizes = sizes;
            this.bottom = bottom;
        }

        private boolean isTombstone(int version) {
            byte kind = inputs.get(files[version]).valueKind(entries[version]);
            return kind == ValueCodec.DELETED || kind == ValueCodec.ZERO_PAGE;
        }

        void add(int file, int entry) throws IOException {
            LayerFile f = inputs.get(file);
            if (count > 0 && (f.inode(entry) != inode || f.block(entry) != block)) {
                finishKey();
            }
            if (count == 0) {
                inode = f.inode(entry);
                block = f.block(entry);
            } else if (lsn(count - 1) == f.lsn(entry)) {
                dropped++; // the same version in two inputs (never written so): keep one copy
                return;
            }
            if (count == files.length) {
                files = Arrays.copyOf(files, count * 2);
                entries = Arrays.copyOf(entries, count * 2);
            }
            files[count] = file;
            entries[count] = entry;
            count++;
        }

        private long lsn(int version) {
            return inputs.get(files[version]).lsn(entries[version]);
        }

        /** Versions of the current key are in [0, count), oldest first. */
        void finishKey() throws IOException {
            if (count == 0) {
                return;
            }
            int keptHere = 0;
            boolean above = false;
            int q = 0; // first retained point not yet assigned to a version
            for (int v = 0; v < count; v++) {
                long lsn = lsn(v);
                long next = v + 1 < count ? lsn(v + 1) : Long.MAX_VALUE;
                // v is the newest version at or below every point in [lsn, next)
                int firstPoint = q;
                while (q < points.length && points[q] < next) {
                    q++;
                }
                // points below lsn were before any version: they see nothing of this key
                while (firstPoint < q && points[firstPoint] < lsn) {
                    firstPoint++;
                }
                boolean keepIt;
                if (lsn > hPrime) {
                    keepIt = true;
                    above = true;
                } else if (firstPoint == q) {
                    keepIt = false;
                } else if (bottom && keptHere == 0 && isTombstone(v)) {
                    keepIt = false; // nothing under it to hide
                } else if (block >= 0) {
                    keepIt = false;
                    for (int p = firstPoint; p < q && !keepIt; p++) {
                        keepIt = visible(points[p]);
                    }
                } else {
                    keepIt = true;
                }
                if (keepIt) {
                    keep[files[v]].set(entries[v]);
                    kept++;
                    keptHere++;
                } else {
                    dropped++;
                }
            }
            if (keptHere > 1 || above) {
                image = false;
            }
            count = 0;
        }

        /** Whether a read at {@code point} can look at the current page key. */
        private boolean visible(long point) throws IOException {
            if (inode != cachedInode) {
                sizeCache.clear();
                cachedInode = inode;
            }
            long size = sizeCache.get(point);
            if (size == Long.MIN_VALUE) {
                size = sizes.fileSizeAt(inode, point);
                sizeCache.put(point, size);
            }
            return size >= 0 && block < (size + Namespace.PAGE_SIZE - 1) / Namespace.PAGE_SIZE;
        }
    }

    /** K-way merge of the inputs' sorted indexes by (inode, block, LSN). */
    static final class IndexMerge {
        private final List<LayerFile> inputs;
        private final int[] positions;
        private final PriorityQueue<Integer> heap;
        private int file = -1;
        private int entry = -1;

        IndexMerge(List<LayerFile> inputs) {
            this.inputs = inputs;
            this.positions = new int[inputs.size()];
            this.heap = new PriorityQueue<>(Math.max(1, inputs.size()), this::compare);
            for (int i = 0; i < inputs.size(); i++) {
                if (inputs.get(i).entryCount() > 0) {
                    heap.add(i);
                }
            }
        }

        private int compare(int a, int b) {
            LayerFile fa = inputs.get(a);
            LayerFile fb = inputs.get(b);
            int ia = positions[a];
            int ib = positions[b];
            int c = Keys.compare(fa.inode(ia), fa.block(ia), fb.inode(ib), fb.block(ib));
            if (c != 0) {
                return c;
            }
            c = Long.compare(fa.lsn(ia), fb.lsn(ib));
            return c != 0 ? c : Integer.compare(a, b);
        }

        boolean next() {
            if (file >= 0) {
                positions[file]++;
                if (positions[file] < inputs.get(file).entryCount()) {
                    heap.add(file);
                }
            }
            Integer top = heap.poll();
            if (top == null) {
                file = -1;
                return false;
            }
            file = top;
            entry = positions[file];
            return true;
        }

        int file() {
            return file;
        }

        int entry() {
            return entry;
        }
    }

    /** Sequential reads of one input's values section through a window. */
    private static final class Window {
        private final LayerFile file;
        byte[] bytes = new byte[WINDOW_BYTES];
        private long start = -1;
        private int length;

        Window(LayerFile file) {
            this.file = file;
        }

        /** Makes {@code [offset, offset + n)} present and returns where it starts in {@link #bytes}. */
        int load(long offset, int n) throws IOException {
            if (start >= 0 && offset >= start && offset + n <= start + length) {
                return (int) (offset - start);
            }
            int want = (int) Math.min(Math.max(n, WINDOW_BYTES), file.valuesEnd() - offset);
            if (want < n) {
                want = n; // readRaw reports the entry pointing past the values
            }
            if (want > bytes.length) {
                bytes = new byte[want];
            }
            file.readRaw(ByteBuffer.wrap(bytes).slice(0, want), offset);
            start = offset;
            length = want;
            return 0;
        }
    }
}
