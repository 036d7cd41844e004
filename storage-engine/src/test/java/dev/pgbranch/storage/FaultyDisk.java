package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A simulated disk under the engine, for power-cut and fault tests: files live on the real file
 * system (which plays the page cache: reads see every write), while this class keeps apart
 * what a real disk would have made durable.
 *
 * <ul>
 *   <li>Data: a file's durable content changes only at a successful {@code force}. A failed
 *       force loses the unsynced writes for good (the kernel marks the pages clean: "fsyncgate"):
 *       a later force does not bring them back, though reads still see them until the cut.</li>
 *   <li>Names: a create, rename or delete is durable only once its directory is synced; a
 *       failed directory sync loses those operations likewise.</li>
 *   <li>{@link #powerCut()}: the real files are rewritten to what survived: per directory a
 *       random prefix of its unsynced name operations; per file its durable content plus, for
 *       each 4 KB page its unsynced writes touched, the page as written, the page as it was,
 *       or (torn) a prefix of its 512-byte sectors; the file's size is the durable or the
 *       current one. Unwritten parts read as zeros.</li>
 *   <li>Faults: fail the Nth force, directory sync, write or rename from now on (an
 *       {@link IOException}, or ENOSPC's message for writes), or stop the world at the Nth
 *       durability point ({@link #cutAtPoint}) for crash-point sweeps.</li>
 * </ul>
 * Directories themselves are durable when created (the engine creates them once, at open).
 *
 * <p>Thread-safety: every model operation is under one lock; reads go straight to the files.
 */
final class FaultyDisk implements Disk {

    static final int PAGE = 4096;
    static final int SECTOR = 512;

    private final Random random;
    private final Object lock = new Object();
    /** Current name of each tracked file. */
    private final Map<Path, Node> names = new HashMap<>();
    /** Durable names (as a power cut would leave them, before unsynced name operations). */
    private final Map<Path, Node> durableNames = new HashMap<>();
    private final Map<Path, List<NameOp>> pendingNames = new HashMap<>();

    private int failForceIn = -1;
    private int failDirectorySyncIn = -1;
    private int failWriteIn = -1;
    private boolean writeFailureIsNoSpace;
    private int failRenameIn = -1;
    /** Every write to a file under it fails with ENOSPC, while set (a full disk for layer files). */
    private Path noSpaceUnder;
    private int cutAtPoint = -1;
    private boolean dead;
    private long points;
    private long forcesFailed;
    private long writesFailed;
    /** What happened to the files since this disk was made, for the failure message of a test. */
    private final StringBuilder journal = new StringBuilder();

    private void note(String what, Path path) {
        journal.append(Thread.currentThread().getName()).append(' ').append(what).append(' ')
                .append(path == null ? "(deleted)" : path.getParent().getFileName() + "/" + path.getFileName())
                .append('\n');
    }

    /** The operations on files so far, one a line: thread, operation, file. */
    String journal() {
        synchronized (lock) {
            return journal.toString();
        }
    }

    /** One file's durable content and the writes since its last force. */
    private static final class Node {
        Path path;
        byte[] durable;
        final List<long[]> dirtyRanges = new ArrayList<>(); // [from, to) written or truncated since the force
        long durableSize;

        Node(Path path, byte[] durable) {
            this.path = path;
            this.durable = durable;
            this.durableSize = durable.length;
        }
    }

    private record NameOp(Path from, Path to, Node node) {
        // create: from null; delete: to null; rename: both
    }

    FaultyDisk(long seed) {
        this.random = new Random(seed);
    }

    // ------------------------------------------------------------------ faults

    /** The {@code n}th force from now on (1 = the next) fails. */
    void failForce(int n) {
        synchronized (lock) {
            failForceIn = n;
        }
    }

    void failDirectorySync(int n) {
        synchronized (lock) {
            failDirectorySyncIn = n;
        }
    }

    /** The {@code n}th write from now on fails, with ENOSPC's message if {@code noSpace}. */
    void failWrite(int n, boolean noSpace) {
        synchronized (lock) {
            failWriteIn = n;
            writeFailureIsNoSpace = noSpace;
        }
    }

    /** While {@code directory} is non-null, every write to a file below it fails with ENOSPC. */
    void noSpaceUnder(Path directory) {
        synchronized (lock) {
            noSpaceUnder = directory;
        }
    }

    void failRename(int n) {
        synchronized (lock) {
            failRenameIn = n;
        }
    }

    /**
     * At the {@code n}th durability point from now on (a force, a directory sync or a rename),
     * the power goes: that operation and every later one fails, as if the machine had stopped.
     */
    void cutAtPoint(int n) {
        synchronized (lock) {
            cutAtPoint = n;
        }
    }

    /** Durability points (forces, directory syncs, renames) passed so far. */
    long points() {
        synchronized (lock) {
            return points;
        }
    }

    boolean isDead() {
        synchronized (lock) {
            return dead;
        }
    }

    long forcesFailed() {
        synchronized (lock) {
            return forcesFailed;
        }
    }

    private void point(String what) throws IOException {
        if (dead) {
            throw new IOException("simulated power cut (" + what + ")");
        }
        points++;
        if (cutAtPoint > 0 && --cutAtPoint == 0) {
            dead = true;
            throw new IOException("simulated power cut at " + what);
        }
    }

    private void checkAlive() throws IOException {
        if (dead) {
            throw new IOException("simulated power cut");
        }
    }

    // ------------------------------------------------------------------ the cut

    /**
     * Rewrites the files to what a power cut at this moment could leave (see the class comment),
     * then treats all of it as durable. Call with every channel of the store closed.
     */
    void powerCut() throws IOException {
        synchronized (lock) {
            journal.append("---- power cut\n");
            Map<Path, Node> survivors = new HashMap<>(durableNames);
            for (List<NameOp> ops : pendingNames.values()) {
                int keep = random.nextInt(ops.size() + 1);
                for (NameOp op : ops.subList(0, keep)) {
                    if (op.from() != null) {
                        survivors.remove(op.from());
                    }
                    if (op.to() != null) {
                        survivors.put(op.to(), op.node());
                    }
                }
            }
            Set<Path> tracked = new HashSet<>(names.keySet());
            tracked.addAll(durableNames.keySet());
            for (List<NameOp> ops : pendingNames.values()) {
                for (NameOp op : ops) {
                    if (op.from() != null) {
                        tracked.add(op.from());
                    }
                    if (op.to() != null) {
                        tracked.add(op.to());
                    }
                }
            }
            Map<Node, byte[]> contents = new HashMap<>();
            for (Node node : new HashSet<>(survivors.values())) {
                contents.put(node, survived(node));
            }
            for (Path p : tracked) {
                Files.deleteIfExists(p);
            }
            names.clear();
            durableNames.clear();
            pendingNames.clear();
            for (Map.Entry<Path, Node> e : survivors.entrySet()) {
                byte[] bytes = contents.get(e.getValue());
                Files.write(e.getKey(), bytes);
            }
            dead = false;
            cutAtPoint = -1;
            failForceIn = failDirectorySyncIn = failWriteIn = failRenameIn = -1;
        }
    }

    /** A file's content after the cut: durable bytes plus a random choice of its dirty pages. */
    private byte[] survived(Node node) throws IOException {
        // A file deleted since (its deletion not durable) comes back with what its last force kept.
        byte[] current = node.path != null && names.get(node.path) == node && Files.exists(node.path)
                ? Files.readAllBytes(node.path) : node.durable;
        long size = random.nextBoolean() ? current.length : node.durableSize;
        byte[] out = Arrays.copyOf(node.durable, (int) size);
        if (size > node.durable.length) {
            Arrays.fill(out, node.durable.length, (int) size, (byte) 0);
        }
        Set<Long> pages = new HashSet<>();
        for (long[] r : node.dirtyRanges) {
            for (long p = r[0] / PAGE; p * PAGE < r[1]; p++) {
                pages.add(p);
            }
        }
        for (long page : pages) {
            int from = (int) (page * PAGE);
            if (from >= size) {
                continue;
            }
            int to = (int) Math.min(size, from + PAGE);
            int choice = random.nextInt(5);
            if (choice < 2) {
                continue; // never written back: as it was
            }
            int end = to;
            if (choice == 4) { // torn: a prefix of the page's sectors
                end = Math.min(to, from + SECTOR * random.nextInt(PAGE / SECTOR));
            }
            for (int i = from; i < end; i++) {
                out[i] = i < current.length ? current[i] : 0;
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ Disk

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        Set<OpenOption> set = Set.of(options);
        boolean writes = set.contains(StandardOpenOption.WRITE);
        synchronized (lock) {
            if (writes) {
                checkAlive();
            }
            boolean existed = Files.exists(path);
            Set<OpenOption> withRead = new HashSet<>(set);
            if (writes) {
                withRead.add(StandardOpenOption.READ); // the model reads what was written at each force
            }
            FileChannel real = OsDisk.INSTANCE.open(path, withRead.toArray(OpenOption[]::new));
            Node node = names.get(path);
            if (node == null && existed) {
                node = new Node(path, Files.readAllBytes(path)); // untouched since the last cut: durable
                names.put(path, node);
                durableNames.put(path, node);
            } else if (node == null) {
                node = new Node(path, new byte[0]);
                names.put(path, node);
                pendingNames.computeIfAbsent(path.getParent(), k -> new ArrayList<>()).add(new NameOp(null, path, node));
            }
            if (set.contains(StandardOpenOption.TRUNCATE_EXISTING) && existed) {
                node.dirtyRanges.add(new long[] {0, Math.max(node.durableSize, 1)});
            }
            return new Channel(real, node);
        }
    }

    @Override
    public void createDirectories(Path directory) throws IOException {
        OsDisk.INSTANCE.createDirectories(directory);
    }

    @Override
    public void move(Path from, Path to) throws IOException {
        synchronized (lock) {
            point("rename " + from.getFileName());
            if (failRenameIn > 0 && --failRenameIn == 0) {
                throw new IOException("injected rename failure: " + from + " -> " + to);
            }
            Node node = track(from);
            Node replaced = names.remove(to);
            OsDisk.INSTANCE.move(from, to);
            names.remove(from);
            names.put(to, node);
            node.path = to;
            if (replaced != null) {
                replaced.path = null;
            }
            pendingNames.computeIfAbsent(to.getParent(), k -> new ArrayList<>()).add(new NameOp(from, to, node));
            note("rename from " + from.getFileName() + " to", to);
        }
    }

    @Override
    public boolean deleteIfExists(Path path) throws IOException {
        synchronized (lock) {
            checkAlive();
            if (!Files.exists(path)) {
                return false;
            }
            Node node = track(path);
            names.remove(path);
            node.path = null;
            pendingNames.computeIfAbsent(path.getParent(), k -> new ArrayList<>()).add(new NameOp(path, null, node));
            note("delete", path);
            return OsDisk.INSTANCE.deleteIfExists(path);
        }
    }

    /** The node of an existing file, tracking it as durable if untouched since the last cut. */
    private Node track(Path path) throws IOException {
        Node node = names.get(path);
        if (node == null) {
            node = new Node(path, Files.readAllBytes(path));
            names.put(path, node);
            durableNames.put(path, node);
        }
        return node;
    }

    @Override
    public void syncDirectory(Path directory) throws IOException {
        synchronized (lock) {
            point("directory sync " + directory.getFileName());
            List<NameOp> ops = pendingNames.remove(directory);
            note("directory sync of " + (ops == null ? 0 : ops.size()) + " name operation(s)", directory.resolve("."));
            if (failDirectorySyncIn > 0 && --failDirectorySyncIn == 0) {
                note("directory sync FAILED", directory.resolve("."));
                throw new IOException("injected directory fsync failure: " + directory); // ops lost
            }
            if (ops != null) {
                for (NameOp op : ops) {
                    if (op.from() != null) {
                        durableNames.remove(op.from());
                    }
                    if (op.to() != null) {
                        durableNames.put(op.to(), op.node());
                    }
                }
            }
        }
    }

    @Override
    public List<Path> list(Path directory) throws IOException {
        return OsDisk.INSTANCE.list(directory);
    }

    @Override
    public byte[] readAll(Path path) throws IOException {
        return OsDisk.INSTANCE.readAll(path);
    }

    @Override
    public boolean exists(Path path) {
        return OsDisk.INSTANCE.exists(path);
    }

    @Override
    public long usableSpace(Path directory) throws IOException {
        return OsDisk.INSTANCE.usableSpace(directory);
    }

    // ------------------------------------------------------------------ channels

    /** A real channel whose writes, truncates and forces are reported to the model. */
    private final class Channel extends FileChannel {
        private final FileChannel real;
        private final Node node;

        Channel(FileChannel real, Node node) {
            this.real = real;
            this.node = node;
        }

        private void beforeWrite(long position, int length) throws IOException {
            checkAlive();
            if (noSpaceUnder != null && node.path != null && node.path.startsWith(noSpaceUnder)) {
                writesFailed++;
                throw new IOException(DiskErrors.ENOSPC_TEXT);
            }
            if (failWriteIn > 0 && --failWriteIn == 0) {
                writesFailed++;
                throw new IOException(writeFailureIsNoSpace ? DiskErrors.ENOSPC_TEXT : "injected write failure (EIO)");
            }
            node.dirtyRanges.add(new long[] {position, position + length});
            note("write " + position + "-" + (position + length), node.path);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            synchronized (lock) {
                beforeWrite(real.position(), src.remaining());
                return real.write(src);
            }
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            synchronized (lock) {
                beforeWrite(position, src.remaining());
                return real.write(src, position);
            }
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            synchronized (lock) {
                checkAlive();
                node.dirtyRanges.add(new long[] {size, Math.max(size, real.size())});
                note("truncate " + size + " from " + real.size(), node.path);
                real.truncate(size);
                return this;
            }
        }

        @Override
        public void force(boolean metaData) throws IOException {
            synchronized (lock) {
                point("fsync " + (node.path == null ? "(deleted)" : node.path.getFileName()));
                if (failForceIn > 0 && --failForceIn == 0) {
                    note("force FAILED", node.path);
                    forcesFailed++;
                    // The kernel drops the dirty state: what was not durable stays lost.
                    node.dirtyRanges.clear();
                    throw new IOException("injected fsync failure (EIO)");
                }
                byte[] current = readCurrent();
                note("force size=" + current.length + " dirty=" + node.dirtyRanges.stream()
                        .map(r -> r[0] + "-" + r[1]).toList(), node.path);
                node.durable = applyDirty(node.durable, current);
                node.durableSize = current.length;
                node.dirtyRanges.clear();
            }
        }

        private byte[] readCurrent() throws IOException {
            long size = real.size();
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining() && real.read(b, b.position()) >= 0) {
                // read it all
            }
            return b.array();
        }

        /** The durable content with the dirty ranges taken from the current one (lost writes stay lost). */
        private byte[] applyDirty(byte[] durable, byte[] current) {
            byte[] out = Arrays.copyOf(durable, current.length);
            for (long[] r : node.dirtyRanges) {
                for (long i = r[0]; i < Math.min(r[1], current.length); i++) {
                    out[(int) i] = current[(int) i];
                }
            }
            return out;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return real.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new UnsupportedOperationException("not used by the engine");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            if (mode != MapMode.READ_ONLY) {
                throw new UnsupportedOperationException("writable maps bypass the model");
            }
            return real.map(mode, position, size);
        }

        @Override
        public java.lang.foreign.MemorySegment map(MapMode mode, long offset, long size, java.lang.foreign.Arena arena)
                throws IOException {
            if (mode != MapMode.READ_ONLY) {
                throw new UnsupportedOperationException("writable maps bypass the model");
            }
            return real.map(mode, offset, size, arena);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return real.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return real.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }
    }
}
