package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The store's manifest: the live timelines (with ancestors and the LSN up to which their history
 * is in layer files) and their layer files. Replaced as a whole, atomically.
 *
 * <pre>
 *  file "manifest"
 *    magic "PGBMANIF" u64 | format version u32 (3; 1 and 2 are still read) | body length u32
 *    | body CRC32C u32 | body
 *  body
 *    next layer id i64 | timeline count u32 | timeline...
 *  timeline
 *    id high i64 | id low i64 | has ancestor u8 | ancestor high i64 | ancestor low i64
 *    | ancestor LSN i64 | disk-consistent LSN i64 | GC horizon i64 (since version 2; a
 *    version 1 timeline has horizon 0) | layer count u32 | layer...
 *    | LSN floor i64 | quarantine length u16 | quarantine UTF-8 (both since version 3: the
 *    floor its own LSNs start above; why the timeline is held back from serving, length 0 for
 *    a live timeline)
 *  layer (oldest first; file layers/&lt;timeline&gt;-&lt;id, 16 hex&gt;.delta)
 *    id i64 | file size i64
 * </pre>
 *
 * <p>Crash behaviour: written to {@code manifest.tmp}, fsynced, renamed over {@code manifest},
 * directory fsynced: a reader sees the old or the new manifest, never a mix. A timeline's GC
 * horizon is written here before any version below it is dropped, so a crash never leaves a
 * readable LSN whose versions are gone. A manifest that
 * fails its checks is an error (never silently treated as empty).
 *
 * <p>Thread-safety: immutable value; {@link #write} callers serialize themselves.
 */
record Manifest(long nextLayerId, List<TimelineEntry> timelines) {

    static final long MAGIC = 0x5047424D414E4946L; // "PGBMANIF"
    static final int VERSION = 3;
    static final int VERSION_WITHOUT_HORIZON = 1;
    static final int VERSION_WITHOUT_QUARANTINE = 2;
    /** Offsets in the file. */
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 8;
    static final int LENGTH_OFFSET = 12;
    static final int CRC_OFFSET = 16;
    static final int BODY_OFFSET = 20;
    static final String FILE = "manifest";

    /**
     * One timeline.
     *
     * @param quarantine why the store holds it back from serving (damaged files or log), or
     *     null for a live timeline
     */
    record TimelineEntry(TimelineId id, Ancestor ancestor, long diskConsistentLsn, long gcHorizon,
                         List<LayerEntry> layers, long lsnFloor, String quarantine) {

        TimelineEntry withQuarantine(String reason) {
            return new TimelineEntry(id, ancestor, diskConsistentLsn, gcHorizon, layers, lsnFloor, reason);
        }
    }

    record LayerEntry(long id, long size) {
    }

    static String layerFileName(TimelineId timeline, long layerId) {
        return timeline + "-" + String.format("%016x", layerId) + ".delta";
    }

    /** The quarantine reason as stored: UTF-8, cut to what a u16 length holds. */
    private static byte[] reason(TimelineEntry t) {
        if (t.quarantine == null) {
            return new byte[0];
        }
        byte[] bytes = t.quarantine.getBytes(StandardCharsets.UTF_8);
        return bytes.length <= 4096 ? bytes : java.util.Arrays.copyOf(bytes, 4096);
    }

    static Manifest empty() {
        return new Manifest(1, List.of());
    }

    ByteBuffer encode() {
        int length = 8 + 4;
        for (TimelineEntry t : timelines) {
            length += 8 * 2 + 1 + 8 * 3 + 8 + 8 + 4 + t.layers.size() * 16 + 8 + 2 + reason(t).length;
        }
        ByteBuffer b = ByteBuffer.allocate(20 + length);
        b.putLong(MAGIC).putInt(VERSION).putInt(length).putInt(0);
        b.putLong(nextLayerId);
        b.putInt(timelines.size());
        for (TimelineEntry t : timelines) {
            b.putLong(t.id.high()).putLong(t.id.low());
            if (t.ancestor == null) {
                b.put((byte) 0).putLong(0).putLong(0).putLong(0);
            } else {
                b.put((byte) 1).putLong(t.ancestor.timeline().high()).putLong(t.ancestor.timeline().low())
                        .putLong(t.ancestor.lsn());
            }
            b.putLong(t.diskConsistentLsn);
            b.putLong(t.gcHorizon);
            b.putInt(t.layers.size());
            for (LayerEntry l : t.layers) {
                b.putLong(l.id).putLong(l.size);
            }
            b.putLong(t.lsnFloor);
            byte[] reason = reason(t);
            b.putShort((short) reason.length).put(reason);
        }
        b.putInt(16, LayerFormat.crc(b.array(), 20, length));
        b.flip();
        return b;
    }

    static Manifest decode(ByteBuffer b, Path path) throws IOException {
        if (b.remaining() < 20) {
            throw new IOException("manifest " + path + " is truncated (" + b.remaining() + " bytes)");
        }
        if (b.getLong(0) != MAGIC) {
            throw new IOException("manifest " + path + ": bad magic at offset 0");
        }
        int version = b.getInt(8);
        if (version != VERSION && version != VERSION_WITHOUT_HORIZON && version != VERSION_WITHOUT_QUARANTINE) {
            throw new IOException("manifest " + path + ": unsupported format version " + b.getInt(8) + " at offset 8");
        }
        int length = b.getInt(12);
        if (length < 0 || length != b.remaining() - 20) {
            throw new IOException("manifest " + path + ": body length " + length + " does not match the file (offset 12)");
        }
        if (b.getInt(16) != LayerFormat.crc(b.array(), 20, length)) {
            throw new IOException("manifest " + path + ": checksum mismatch (offset 16)");
        }
        try {
            b.position(20);
            long nextLayerId = b.getLong();
            int count = b.getInt();
            List<TimelineEntry> timelines = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                TimelineId id = new TimelineId(b.getLong(), b.getLong());
                boolean hasAncestor = b.get() != 0;
                TimelineId ancestorId = new TimelineId(b.getLong(), b.getLong());
                long ancestorLsn = b.getLong();
                long diskConsistent = b.getLong();
                long horizon = version == VERSION_WITHOUT_HORIZON ? 0 : b.getLong();
                int layers = b.getInt();
                List<LayerEntry> list = new ArrayList<>();
                for (int j = 0; j < layers; j++) {
                    list.add(new LayerEntry(b.getLong(), b.getLong()));
                }
                String quarantine = null;
                long floor = hasAncestor ? ancestorLsn : 0;
                if (version >= VERSION) {
                    floor = b.getLong();
                    byte[] reason = new byte[Short.toUnsignedInt(b.getShort())];
                    b.get(reason);
                    quarantine = reason.length == 0 ? null : new String(reason, StandardCharsets.UTF_8);
                }
                timelines.add(new TimelineEntry(id, hasAncestor ? new Ancestor(ancestorId, ancestorLsn) : null,
                        diskConsistent, horizon, List.copyOf(list), floor, quarantine));
            }
            return new Manifest(nextLayerId, List.copyOf(timelines));
        } catch (RuntimeException e) {
            throw new IOException("manifest " + path + " is undecodable at offset " + b.position(), e);
        }
    }

    /** Reads the manifest in {@code directory}, or null if there is none (a new store). */
    static Manifest read(Path directory, Disk disk) throws IOException {
        Path path = directory.resolve(FILE);
        byte[] bytes;
        try {
            bytes = disk.readAll(path);
        } catch (NoSuchFileException e) {
            return null;
        }
        return decode(ByteBuffer.wrap(bytes), path);
    }

    void write(Path directory, boolean fsync, Disk disk) throws IOException {
        Path tmp = directory.resolve(FILE + ".tmp");
        try (FileChannel out = disk.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = encode();
            while (b.hasRemaining()) {
                out.write(b);
            }
            if (fsync) {
                out.force(true);
            }
        }
        disk.move(tmp, directory.resolve(FILE));
        if (fsync) {
            disk.syncDirectory(directory);
        }
    }
}
