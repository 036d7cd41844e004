package dev.pgbranch.pageserver.review;

import dev.pgbranch.pageserver.datadiff.Scope;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.ChangedBlocks;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.TimelineId;
import org.roaringbitmap.RoaringBitmap;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which relation blocks changed between two (or three) points of the store's history, for the
 * data diff: each point's ancestry is walked back to the newest point the two share; the blocks
 * each timeline on the way wrote above it come from the layer indexes
 * ({@link ChangedBlocks}); a relation's files are found by path in each point's namespace
 * ({@code base/<dboid>/<relfilenode>}, then {@code .1}, {@code .2} ... per 1 GB segment) exactly
 * as the FUSE mount resolves them, and their pages map to relation blocks
 * ({@code segment * 131072 + page}).
 *
 * <p>Falls back to "full" (the caller reads the whole table) when the points share no history or
 * the relation's file differs between them (TRUNCATE, VACUUM FULL, CLUSTER or a rewriting ALTER
 * give it a new relfilenode; a dropped and re-created file has a new inode).
 *
 * <p>Not thread-safe: one per diff request; caches each timeline's written blocks.
 */
final class ChangedRelations {

    /** Pages per 1 GB segment file of a relation (Postgres's RELSEG_SIZE with 8 KB pages). */
    static final long SEGMENT_BLOCKS = 131_072;
    private static final int MAX_SEGMENTS = 1 << 14;
    private static final int MAX_ANCESTRY = 1024;

    /** One point of history: a timeline at an LSN. */
    record Point(String label, TimelineId timeline, long lsn) {
    }

    /** A timeline's own writes in {@code (after, upTo]}. */
    private record Segment(TimelineId timeline, long after, long upTo) {
    }

    private final PageStore store;
    private final List<Point> points;
    private final List<List<Segment>> writes;
    private final String noCommonHistory;
    private final Map<Segment, Map<Long, RoaringBitmap>> written = new HashMap<>();

    /** The points to compare; the first two decide the common point, a third (the base) adds its own writes. */
    ChangedRelations(PageStore store, List<Point> points) {
        this.store = store;
        this.points = List.copyOf(points);
        List<List<Segment>> chains = new ArrayList<>();
        for (Point p : points) {
            chains.add(chain(p));
        }
        List<List<Segment>> above = new ArrayList<>();
        String missing = null;
        Optional<long[]> common = Optional.empty();
        Segment commonA = null;
        Segment commonB = null;
        outer:
        for (Segment b : chains.get(1)) {
            for (Segment a : chains.get(0)) {
                if (a.timeline().equals(b.timeline())) {
                    commonA = a;
                    commonB = b;
                    common = Optional.of(new long[] {Math.min(a.upTo(), b.upTo())});
                    break outer;
                }
            }
        }
        if (common.isEmpty()) {
            missing = points.get(0).label() + " and " + points.get(1).label() + " share no history in the store";
        } else {
            long at = common.get()[0];
            above.add(above(chains.get(0), commonA, at));
            above.add(above(chains.get(1), commonB, at));
            for (int i = 2; i < chains.size(); i++) {
                // The base descends from the common point: its own writes (crash recovery) count too.
                List<Segment> own = new ArrayList<>();
                for (Segment s : chains.get(i)) {
                    if (s.timeline().equals(commonA.timeline())) {
                        break;
                    }
                    own.add(s);
                }
                above.add(own);
            }
        }
        this.writes = above;
        this.noCommonHistory = missing;
    }

    private static List<Segment> above(List<Segment> chain, Segment common, long at) {
        List<Segment> out = new ArrayList<>();
        for (Segment s : chain) {
            if (s.equals(common)) {
                if (s.upTo() > at) {
                    out.add(new Segment(s.timeline(), at, s.upTo()));
                }
                break;
            }
            out.add(s);
        }
        return out;
    }

    private List<Segment> chain(Point p) {
        List<Segment> out = new ArrayList<>();
        TimelineId t = p.timeline();
        long upTo = p.lsn();
        for (int i = 0; i < MAX_ANCESTRY; i++) {
            Optional<Ancestor> anc = store.ancestor(t);
            out.add(new Segment(t, anc.map(Ancestor::lsn).orElse(0L), upTo));
            if (anc.isEmpty()) {
                break;
            }
            upTo = anc.get().lsn();
            t = anc.get().timeline();
        }
        return out;
    }

    /**
     * The scope of the relation whose main fork is at {@code paths.get(i)} on point {@code i}
     * (null: the table is not there).
     */
    Scope scope(List<String> paths) throws IOException {
        if (noCommonHistory != null) {
            return Scope.full(noCommonHistory);
        }
        String first = null;
        for (int i = 0; i < paths.size(); i++) {
            String path = paths.get(i);
            if (path == null) {
                return Scope.full("the table is not on " + points.get(i).label());
            }
            if (first == null) {
                first = path;
            } else if (!first.equals(path)) {
                return Scope.full("its file was replaced (" + first + " on " + points.get(0).label() + ", " + path + " on "
                        + points.get(i).label() + ": TRUNCATE, VACUUM FULL, CLUSTER or a rewriting ALTER TABLE)");
            }
        }
        if (first.startsWith("pg_tblspc/")) {
            return Scope.full("it is in a tablespace");
        }
        RoaringBitmap blocks = new RoaringBitmap();
        List<List<Long>> inodes = new ArrayList<>();
        for (Point p : points) {
            inodes.add(segments(p, first));
        }
        for (int i = 1; i < inodes.size(); i++) {
            int shared = Math.min(inodes.get(0).size(), inodes.get(i).size());
            for (int seg = 0; seg < shared; seg++) {
                if (!inodes.get(0).get(seg).equals(inodes.get(i).get(seg))) {
                    return Scope.full("its file " + segmentName(first, seg) + " was re-created");
                }
            }
        }
        for (int i = 0; i < points.size(); i++) {
            List<Long> files = inodes.get(i);
            for (Segment s : writes.get(i)) {
                Map<Long, RoaringBitmap> w = written(s);
                for (int seg = 0; seg < files.size(); seg++) {
                    RoaringBitmap pages = w.get(files.get(seg));
                    if (pages == null) {
                        continue;
                    }
                    if (seg == 0) {
                        blocks.or(pages);
                    } else {
                        long offset = seg * SEGMENT_BLOCKS;
                        pages.forEach((int page) -> blocks.add((int) (offset + Integer.toUnsignedLong(page))));
                    }
                }
            }
        }
        return Scope.blocks(blocks);
    }

    private Map<Long, RoaringBitmap> written(Segment s) {
        return written.computeIfAbsent(s, k -> ChangedBlocks.written(store.timeline(k.timeline()), k.after(), k.upTo()));
    }

    /** The inodes of the relation's segment files at the point, in segment order. */
    private List<Long> segments(Point p, String path) throws IOException {
        Namespace ns = store.timeline(p.timeline()).at(p.lsn());
        String[] parts = path.split("/");
        long dir = Namespace.ROOT_INODE;
        for (int i = 0; i < parts.length - 1; i++) {
            dir = ns.lookup(dir, parts[i]);
            if (dir == Namespace.NO_INODE) {
                return List.of();
            }
        }
        List<Long> out = new ArrayList<>();
        for (int seg = 0; seg < MAX_SEGMENTS; seg++) {
            long inode = ns.lookup(dir, segmentName(parts[parts.length - 1], seg));
            if (inode == Namespace.NO_INODE) {
                break;
            }
            out.add(inode);
        }
        return out;
    }

    private static String segmentName(String file, int seg) {
        String name = file.substring(file.lastIndexOf('/') + 1);
        return seg == 0 ? name : name + "." + seg;
    }

    /** For notes: the points as {@code label (timeline at lsn)}. */
    String describe() {
        StringBuilder sb = new StringBuilder();
        for (Point p : points) {
            sb.append(sb.isEmpty() ? "" : ", ").append(p.label()).append(" at ").append(Lsn.format(p.lsn()));
        }
        return sb.toString();
    }
}
