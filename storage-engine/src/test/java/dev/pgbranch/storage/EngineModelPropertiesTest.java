package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The engine against a plain in-memory model: random sequences of namespace mutations on random
 * timelines, branches at random LSNs, flushes and restarts, with every timeline compared with
 * the model at random LSNs (listings, attributes except times, file bytes, errors).
 */
class EngineModelPropertiesTest {

    private static final String[] NAMES = {"a", "b", "c", "d"};

    // ------------------------------------------------------------------ operations

    sealed interface Op permits Create, Write, Truncate, Unlink, Rmdir, Rename, Chmod, Branch, Delete, Check, Flush, Restart, Crash {
    }

    record Create(int timeline, int dir, int name, boolean directory, int mode) implements Op {
    }

    record Write(int timeline, int file, int offset, int length, int seed) implements Op {
    }

    record Truncate(int timeline, int file, int size) implements Op {
    }

    record Unlink(int timeline, int entry) implements Op {
    }

    record Rmdir(int timeline, int entry) implements Op {
    }

    record Rename(int timeline, int entry, int toDir, int name) implements Op {
    }

    record Chmod(int timeline, int inode, int mode) implements Op {
    }

    record Branch(int timeline, int lsnChoice) implements Op {
    }

    record Check(int timeline, int lsnChoice) implements Op {
    }

    /** Deletes a leaf timeline other than the root. */
    record Delete(int timeline) implements Op {
    }

    record Flush() implements Op {
    }

    record Restart() implements Op {
    }

    /** Gives the store up without closing it, as kill -9 would (the OS keeps what was written). */
    record Crash() implements Op {
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        return operation().list().ofMinSize(5).ofMaxSize(90);
    }

    /** One random operation (also the mutations of {@link PowerCutPropertiesTest}). */
    static Arbitrary<Op> operation() {
        Arbitrary<Integer> any = Arbitraries.integers().between(0, 1_000_000);
        Arbitrary<Integer> name = Arbitraries.integers().between(0, NAMES.length - 1);
        Arbitrary<Integer> mode = Arbitraries.of(0600, 0644, 0700, 0755);
        Arbitrary<Integer> offset = Arbitraries.oneOf(Arbitraries.integers().between(0, 40_000),
                Arbitraries.of(0, 8191, 8192, 8193, 16384, 24576 - 3));
        Arbitrary<Integer> length = Arbitraries.oneOf(Arbitraries.integers().between(0, 20_000),
                Arbitraries.of(1, 8192, 16384));
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Combinators.combine(any, any, name, Arbitraries.of(true, false), mode)
                        .as((t, d, n, dir, m) -> (Op) new Create(t, d, n, dir, m))),
                net.jqwik.api.Tuple.of(8, Combinators.combine(any, any, offset, length, any)
                        .as((t, f, o, l, s) -> (Op) new Write(t, f, o, l, s))),
                net.jqwik.api.Tuple.of(3, Combinators.combine(any, any, offset)
                        .as((t, f, s) -> (Op) new Truncate(t, f, s))),
                net.jqwik.api.Tuple.of(2, Combinators.combine(any, any).as((t, e) -> (Op) new Unlink(t, e))),
                net.jqwik.api.Tuple.of(2, Combinators.combine(any, any).as((t, e) -> (Op) new Rmdir(t, e))),
                net.jqwik.api.Tuple.of(3, Combinators.combine(any, any, any, name)
                        .as((t, e, d, n) -> (Op) new Rename(t, e, d, n))),
                net.jqwik.api.Tuple.of(1, Combinators.combine(any, any, mode).as((t, i, m) -> (Op) new Chmod(t, i, m))),
                net.jqwik.api.Tuple.of(2, Combinators.combine(any, any).as((t, l) -> (Op) new Branch(t, l))),
                net.jqwik.api.Tuple.of(4, Combinators.combine(any, any).as((t, l) -> (Op) new Check(t, l))),
                net.jqwik.api.Tuple.of(1, any.map(t -> (Op) new Delete(t))),
                net.jqwik.api.Tuple.of(1, Arbitraries.just((Op) new Flush())),
                net.jqwik.api.Tuple.of(1, Arbitraries.just((Op) new Restart())),
                net.jqwik.api.Tuple.of(1, Arbitraries.just((Op) new Crash())));
        return op;
    }

    // ------------------------------------------------------------------ the model

    static final class MInode {
        final boolean directory;
        int mode;
        final int uid;
        final int gid;
        byte[] data = new byte[0];
        TreeMap<String, Long> entries = new TreeMap<>();
        long parent;

        MInode(boolean directory, int mode, int uid, int gid, long parent) {
            this.directory = directory;
            this.mode = mode;
            this.uid = uid;
            this.gid = gid;
            this.parent = parent;
        }

        MInode copy() {
            MInode c = new MInode(directory, mode, uid, gid, parent);
            c.data = data;
            c.entries = new TreeMap<>(entries);
            return c;
        }
    }

    static final class MFs {
        long nextInode = 2;
        TreeMap<Long, MInode> inodes = new TreeMap<>();

        MFs copy() {
            MFs c = new MFs();
            c.nextInode = nextInode;
            for (Map.Entry<Long, MInode> e : inodes.entrySet()) {
                c.inodes.put(e.getKey(), e.getValue().copy());
            }
            return c;
        }
    }

    static final class MTimeline {
        final TimelineId id;
        final MTimeline ancestor;
        final long ancestorLsn;
        final TreeMap<Long, MFs> history = new TreeMap<>();
        long last;

        MTimeline(TimelineId id, MTimeline ancestor, long ancestorLsn) {
            this.id = id;
            this.ancestor = ancestor;
            this.ancestorLsn = ancestorLsn;
            this.last = ancestorLsn;
        }

        long start() {
            return ancestor == null ? 1 : ancestorLsn;
        }

        MFs at(long lsn) {
            Map.Entry<Long, MFs> e = history.floorEntry(lsn);
            if (e != null && (ancestor == null || e.getKey() > ancestorLsn)) {
                return e.getValue();
            }
            return ancestor == null ? new MFs() : ancestor.at(Math.min(lsn, ancestorLsn));
        }

        MFs head() {
            return at(last);
        }

        void commit(MFs fs) {
            last++;
            history.put(last, fs);
        }
    }

    static final class ModelError extends Exception {
        final NamespaceException.Reason reason;

        ModelError(NamespaceException.Reason reason) {
            super(reason.name(), null, false, false);
            this.reason = reason;
        }
    }

    // ------------------------------------------------------------------ the property

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void engineAgreesWithTheModel(@ForAll("operations") @Size(max = 90) List<Op> ops) throws Exception {
        Path dir = Files.createTempDirectory("pgbranch-prop");
        StoreOptions options = new StoreOptions(16 * 1024, 64 * 1024, false);
        PageStore store = PageStore.open(dir, options);
        try {
            List<MTimeline> model = new ArrayList<>();
            TimelineId root = store.createRootTimeline(70, 71);
            MTimeline mroot = new MTimeline(root, null, 0);
            mroot.history.put(0L, new MFs());
            MFs initial = new MFs();
            initial.inodes.put(1L, new MInode(true, 0700, 70, 71, 1));
            mroot.history.put(1L, initial);
            mroot.last = 1;
            model.add(mroot);
            for (Op op : ops) {
                switch (op) {
                    case Flush f -> store.flush();
                    case Restart r -> {
                        store.close();
                        store = PageStore.open(dir, options);
                    }
                    case Crash c -> {
                        ((LayeredStore) store).crash();
                        store = PageStore.open(dir, options);
                    }
                    case Branch b -> {
                        MTimeline parent = model.get(b.timeline() % model.size());
                        long span = parent.last - parent.start() + 1;
                        long lsn = parent.start() + b.lsnChoice() % span;
                        TimelineId child = store.createBranch(parent.id, lsn);
                        model.add(new MTimeline(child, parent, lsn));
                    }
                    case Delete d -> {
                        MTimeline t = model.get(d.timeline() % model.size());
                        boolean hasChildren = model.stream().anyMatch(m -> m.ancestor == t);
                        PageStore s = store;
                        if (hasChildren) {
                            assertThrows(IllegalStateException.class, () -> s.deleteTimeline(t.id));
                        } else if (t.ancestor != null) {
                            store.deleteTimeline(t.id);
                            model.remove(t);
                            assertThrows(NoSuchTimelineException.class, () -> s.timeline(t.id));
                        }
                    }
                    case Check c -> {
                        MTimeline t = model.get(c.timeline() % model.size());
                        long lsn = c.lsnChoice() % (t.last + 1);
                        Timeline engine = store.timeline(t.id);
                        assertEquals(t.last, engine.lastLsn(), "last LSN of " + t.id);
                        compare(t.at(lsn), engine.at(lsn), "at " + lsn);
                    }
                    default -> mutate(store, model, op);
                }
            }
            for (MTimeline t : model) {
                Timeline engine = store.timeline(t.id);
                assertEquals(t.last, engine.lastLsn());
                compare(t.head(), engine, "head of " + t.id);
                compare(t.at(t.start()), engine.at(t.start()), "start of " + t.id);
            }
            store.close();
            store = PageStore.open(dir, options);
            for (MTimeline t : model) {
                compare(t.head(), store.timeline(t.id), "head of " + t.id + " after the last restart");
            }
        } finally {
            store.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static List<Long> inodesOfKind(MFs fs, boolean directory) {
        List<Long> list = new ArrayList<>();
        for (Map.Entry<Long, MInode> e : fs.inodes.entrySet()) {
            if (e.getValue().directory == directory) {
                list.add(e.getKey());
            }
        }
        return list;
    }

    /** Every (directory, name) pair, plus one name that does not exist. */
    private static List<Object[]> entries(MFs fs) {
        List<Object[]> list = new ArrayList<>();
        for (Map.Entry<Long, MInode> e : fs.inodes.entrySet()) {
            for (String name : e.getValue().entries.keySet()) {
                list.add(new Object[] {e.getKey(), name});
            }
        }
        list.add(new Object[] {1L, "missing"});
        return list;
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed + i * 13 + (i >> 8));
        }
        return b;
    }

    void mutate(PageStore store, List<MTimeline> model, Op op) throws Exception {
        MTimeline t = model.get(switch (op) {
            case Create c -> c.timeline();
            case Write w -> w.timeline();
            case Truncate tr -> tr.timeline();
            case Unlink u -> u.timeline();
            case Rmdir r -> r.timeline();
            case Rename r -> r.timeline();
            case Chmod c -> c.timeline();
            default -> throw new AssertionError(op);
        } % model.size());
        Timeline engine = store.timeline(t.id);
        MFs fs = t.head().copy();
        NamespaceException.Reason expected = null;
        boolean changed = true;
        try {
            switch (op) {
                case Create c -> {
                    List<Long> dirs = inodesOfKind(fs, true);
                    long d = dirs.get(c.dir() % dirs.size());
                    String name = NAMES[c.name()];
                    MInode parent = fs.inodes.get(d);
                    long ino = fs.nextInode;
                    long[] got = {-1};
                    engineCall(() -> got[0] = engine.create(d, name,
                            c.directory() ? InodeKind.DIRECTORY : InodeKind.FILE, c.mode(), 5, 6));
                    if (parent.entries.containsKey(name)) {
                        throw new ModelError(NamespaceException.Reason.EXISTS);
                    }
                    fs.nextInode++;
                    fs.inodes.put(ino, new MInode(c.directory(), c.mode(), 5, 6, c.directory() ? d : 0));
                    parent.entries.put(name, ino);
                    assertEquals(ino, got[0], "new inode number");
                }
                case Write w -> {
                    List<Long> files = inodesOfKind(fs, false);
                    if (files.isEmpty()) {
                        return;
                    }
                    long f = files.get(w.file() % files.size());
                    MInode m = fs.inodes.get(f);
                    byte[] bytes = pattern(w.length(), w.seed());
                    if (bytes.length == 0) {
                        changed = false;
                    } else {
                        byte[] data = Arrays.copyOf(m.data, Math.max(m.data.length, w.offset() + bytes.length));
                        System.arraycopy(bytes, 0, data, w.offset(), bytes.length);
                        m.data = data;
                    }
                    assertEquals(bytes.length, engine.write(f, w.offset(), ByteBuffer.wrap(bytes)));
                }
                case Truncate tr -> {
                    List<Long> files = inodesOfKind(fs, false);
                    if (files.isEmpty()) {
                        return;
                    }
                    long f = files.get(tr.file() % files.size());
                    MInode m = fs.inodes.get(f);
                    m.data = Arrays.copyOf(m.data, tr.size());
                    engine.truncate(f, tr.size());
                }
                case Unlink u -> {
                    List<Object[]> entries = entries(fs);
                    Object[] e = entries.get(u.entry() % entries.size());
                    long d = (Long) e[0];
                    String name = (String) e[1];
                    try {
                        Long ino = fs.inodes.get(d).entries.get(name);
                        if (ino == null) {
                            throw new ModelError(NamespaceException.Reason.NOT_FOUND);
                        }
                        if (fs.inodes.get(ino).directory) {
                            throw new ModelError(NamespaceException.Reason.IS_A_DIRECTORY);
                        }
                        fs.inodes.get(d).entries.remove(name);
                        fs.inodes.remove(ino);
                    } finally {
                        engineCall(() -> engine.unlink(d, name));
                    }
                }
                case Rmdir r -> {
                    List<Object[]> entries = entries(fs);
                    Object[] e = entries.get(r.entry() % entries.size());
                    long d = (Long) e[0];
                    String name = (String) e[1];
                    try {
                        Long ino = fs.inodes.get(d).entries.get(name);
                        if (ino == null) {
                            throw new ModelError(NamespaceException.Reason.NOT_FOUND);
                        }
                        MInode target = fs.inodes.get(ino);
                        if (!target.directory) {
                            throw new ModelError(NamespaceException.Reason.NOT_A_DIRECTORY);
                        }
                        if (!target.entries.isEmpty()) {
                            throw new ModelError(NamespaceException.Reason.NOT_EMPTY);
                        }
                        fs.inodes.get(d).entries.remove(name);
                        fs.inodes.remove(ino);
                    } finally {
                        engineCall(() -> engine.removeDirectory(d, name));
                    }
                }
                case Rename r -> {
                    List<Object[]> entries = entries(fs);
                    Object[] e = entries.get(r.entry() % entries.size());
                    long fd = (Long) e[0];
                    String fn = (String) e[1];
                    List<Long> dirs = inodesOfKind(fs, true);
                    long td = dirs.get(r.toDir() % dirs.size());
                    String tn = NAMES[r.name()];
                    try {
                        changed = modelRename(fs, fd, fn, td, tn);
                    } finally {
                        engineCall(() -> engine.rename(fd, fn, td, tn));
                    }
                }
                case Chmod c -> {
                    List<Long> all = new ArrayList<>(fs.inodes.keySet());
                    long ino = all.get(c.inode() % all.size());
                    fs.inodes.get(ino).mode = c.mode();
                    engine.setAttributes(ino, c.mode(), null, null, null);
                }
                default -> throw new AssertionError(op);
            }
        } catch (ModelError e) {
            expected = e.reason;
            changed = false;
        }
        if (expected != null) {
            NamespaceException.Reason got = lastEngineError;
            assertEquals(expected, got, "engine error for " + op);
        } else if (lastEngineError != null) {
            fail("engine refused " + op + " with " + lastEngineError + " but the model accepted it");
        }
        lastEngineError = null;
        if (changed) {
            t.commit(fs);
        }
        assertEquals(t.last, engine.lastLsn(), "LSN after " + op);
    }

    private NamespaceException.Reason lastEngineError;

    interface EngineCall {
        void run() throws IOException;
    }

    private void engineCall(EngineCall call) throws IOException {
        try {
            call.run();
        } catch (NamespaceException e) {
            if (e.reason() == NamespaceException.Reason.NO_SPACE) {
                throw e; // a full disk refuses any mutation: the caller's business, not the model's
            }
            lastEngineError = e.reason();
        }
    }

    private static boolean modelRename(MFs fs, long fd, String fn, long td, String tn) throws ModelError {
        Long src = fs.inodes.get(fd).entries.get(fn);
        if (src == null) {
            throw new ModelError(NamespaceException.Reason.NOT_FOUND);
        }
        MInode s = fs.inodes.get(src);
        if (s.directory) {
            long x = td;
            while (true) {
                if (x == src) {
                    throw new ModelError(NamespaceException.Reason.INVALID_ARGUMENT);
                }
                if (x == 1) {
                    break;
                }
                x = fs.inodes.get(x).parent;
            }
        }
        Long target = fs.inodes.get(td).entries.get(tn);
        if (target != null) {
            if (target.longValue() == src) {
                return false;
            }
            MInode t = fs.inodes.get(target);
            if (s.directory) {
                if (!t.directory) {
                    throw new ModelError(NamespaceException.Reason.NOT_A_DIRECTORY);
                }
                if (!t.entries.isEmpty()) {
                    throw new ModelError(NamespaceException.Reason.NOT_EMPTY);
                }
            } else if (t.directory) {
                throw new ModelError(NamespaceException.Reason.IS_A_DIRECTORY);
            }
            fs.inodes.remove(target);
        }
        fs.inodes.get(fd).entries.remove(fn);
        fs.inodes.get(td).entries.put(tn, src);
        if (s.directory) {
            s.parent = td;
        }
        return true;
    }

    // ------------------------------------------------------------------ comparison

    static void compare(MFs model, Namespace engine, String where) throws IOException {
        MInode root = model.inodes.get(1L);
        Optional<InodeAttributes> rootAttributes = engine.attributes(Namespace.ROOT_INODE);
        if (root == null) {
            assertTrue(rootAttributes.isEmpty(), "no root yet " + where);
            return;
        }
        compareInode(model, engine, 1L, root, where);
        for (long ino = 2; ino < model.nextInode + 2; ino++) {
            if (!model.inodes.containsKey(ino)) {
                assertTrue(engine.attributes(ino).isEmpty(), "inode " + ino + " should not exist " + where);
            }
        }
    }

    private static void compareInode(MFs model, Namespace engine, long ino, MInode m, String where) throws IOException {
        InodeAttributes a = engine.attributes(ino).orElseThrow(() -> new AssertionError("inode " + ino + " missing " + where));
        assertEquals(m.directory ? InodeKind.DIRECTORY : InodeKind.FILE, a.kind(), "kind of " + ino + " " + where);
        assertEquals(m.mode, a.mode(), "mode of " + ino + " " + where);
        assertEquals(m.uid, a.uid(), "uid of " + ino + " " + where);
        assertEquals(m.gid, a.gid(), "gid of " + ino + " " + where);
        if (m.directory) {
            assertEquals(0, a.size());
            List<DirectoryEntry> listing = engine.list(ino);
            List<String> names = listing.stream().map(DirectoryEntry::name).toList();
            assertEquals(List.copyOf(m.entries.keySet()), names, "listing of " + ino + " " + where);
            for (DirectoryEntry e : listing) {
                long child = m.entries.get(e.name());
                assertEquals(child, e.inode(), "inode of " + e.name() + " in " + ino + " " + where);
                assertEquals(child, engine.lookup(ino, e.name()));
                MInode c = model.inodes.get(child);
                assertEquals(c.directory ? InodeKind.DIRECTORY : InodeKind.FILE, e.kind());
                compareInode(model, engine, child, c, where);
            }
            assertEquals(Namespace.NO_INODE, engine.lookup(ino, "missing"));
        } else {
            assertEquals(m.data.length, a.size(), "size of " + ino + " " + where);
            ByteBuffer all = ByteBuffer.allocate(m.data.length + 100);
            assertEquals(m.data.length, engine.read(ino, 0, all));
            byte[] got = Arrays.copyOf(all.array(), m.data.length);
            assertArrayEquals(m.data, got, "bytes of " + ino + " " + where);
            if (m.data.length > 10) {
                ByteBuffer part = ByteBuffer.allocate(7);
                int off = m.data.length / 3;
                assertEquals(7, engine.read(ino, off, part));
                assertArrayEquals(Arrays.copyOfRange(m.data, off, off + 7), part.array());
            }
            assertEquals(0, engine.read(ino, m.data.length, ByteBuffer.allocate(10)));
        }
    }
}
