package dev.pgbranch.storage;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.agrona.collections.Long2ObjectHashMap;
import org.roaringbitmap.RoaringBitmap;

/**
 * An open, verified layer file ({@link LayerFormat}). Opening reads and checks the header,
 * index and bitmaps; values are read on demand with positional reads, checked against their
 * CRC32C, decompressed and cached in the {@link PageCache}.
 *
 * <p>Memory: the index (42 bytes an entry, about 0.5% of the pages it indexes) is not copied to
 * the heap but mapped from the file into a shared {@link Arena} closed with the file, so the
 * heap holds only the bitmaps (a few bytes an inode) however large the store grows; the
 * kernel pages the index in and out as the page cache does. Closing unmaps at once, unlike a
 * {@code MappedByteBuffer}, which would pin a deleted file's space until a garbage collection.
 * Layer files are never written after they are renamed into place, so the index checked at
 * open is the index read later; a value still carries its own CRC32C.
 *
 * <p>Thread-safety: immutable after open; concurrent reads are safe. A read racing with
 * {@link #close} fails with an {@link IOException} ("closed"), never reads unmapped memory.
 *
 * <p>Errors: any mismatch is an {@link IOException} naming the file and offset; a value is never
 * returned unless its checksum matched.
 *
 * <p>Interrupts: a reader's interrupt status is held back during its read; if an interrupt
 * still closes the channel, it is reopened for the other readers.
 */
final class LayerFile implements AutoCloseable {

    private static final LZ4SafeDecompressor LZ4 = LZ4Factory.safeInstance().safeDecompressor();
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final long id;
    private final Path path;
    /** Reopened if another thread's interrupt closed it (see {@link #channel()}). */
    private volatile FileChannel channel;
    private volatile boolean closed;
    private final LayerFormat.Header header;
    private final long fileSize;
    private final int entryCount;
    /** Owns {@link #index}'s mapping; closed with the file. */
    private final Arena arena;
    /** The index entries (without their CRC), mapped read-only. */
    private final MemorySegment index;
    private final Long2ObjectHashMap<RoaringBitmap> bitmaps;
    private final Disk disk;

    private LayerFile(long id, Path path, Disk disk, FileChannel channel, LayerFormat.Header header, long fileSize,
                      Arena arena, MemorySegment index, Long2ObjectHashMap<RoaringBitmap> bitmaps) throws IOException {
        this.id = id;
        this.disk = disk;
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.fileSize = fileSize;
        this.arena = arena;
        this.index = index;
        this.bitmaps = bitmaps;
        this.entryCount = header.entryCount();
        for (int i = 0; i < entryCount; i++) {
            long entryOffset = header.indexOffset() + (long) i * LayerFormat.ENTRY_LENGTH;
            long valueOffset = valueOffset(i);
            int length = storedLength(i);
            if (valueOffset < LayerFormat.HEADER_LENGTH || length < 0 || valueOffset + length > header.indexOffset()) {
                throw corrupt("index entry " + i + " points outside the values", entryOffset);
            }
            if (i > 0 && compare(i - 1, inode(i), block(i), lsn(i)) >= 0) {
                throw corrupt("index entry " + i + " out of order", entryOffset);
            }
        }
    }

    /**
     * Opens and verifies a layer file.
     *
     * @throws IOException naming the file (and offset) if it is missing, truncated or corrupt
     */
    static LayerFile open(long id, Path path, Disk disk) throws IOException {
        FileChannel channel;
        try {
            channel = disk.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new IOException("layer file " + path + " is missing", e);
        }
        try {
            long size = channel.size();
            if (size < LayerFormat.HEADER_LENGTH) {
                throw new IOException("layer file " + path + " is truncated: " + size + " bytes, header needs "
                        + LayerFormat.HEADER_LENGTH + " (offset " + size + ")");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate(LayerFormat.HEADER_LENGTH);
            readFully(channel, headerBytes, 0, path);
            LayerFormat.Header header;
            try {
                header = LayerFormat.Header.decode(headerBytes);
            } catch (IllegalArgumentException e) {
                throw new IOException("layer file " + path + ": " + e.getMessage(), e);
            }
            if (header.indexOffset() < LayerFormat.HEADER_LENGTH
                    || header.bitmapOffset() != header.indexOffset() + header.indexLength()
                    || header.bitmapLength() < 8
                    || header.bitmapOffset() + header.bitmapLength() != size) {
                throw new IOException("layer file " + path + " is truncated or damaged: header says index at "
                        + header.indexOffset() + "+" + header.indexLength() + ", bitmaps at " + header.bitmapOffset()
                        + "+" + header.bitmapLength() + " but the file has " + size + " bytes (offset 84)");
            }
            if (header.indexLength() > Integer.MAX_VALUE || header.bitmapLength() > Integer.MAX_VALUE) {
                throw new IOException("layer file " + path + ": index or bitmaps too large (offset 84)");
            }
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, header.indexOffset(),
                        header.indexLength(), arena);
                long entriesLength = header.indexLength() - 4;
                MemorySegment entries = mapped.asSlice(0, entriesLength);
                CRC32C crc = new CRC32C();
                crc.update(entries.asByteBuffer());
                if (mapped.get(INT, entriesLength) != (int) crc.getValue()) {
                    throw new IOException("layer file " + path + ": index checksum mismatch at offset "
                            + header.indexOffset());
                }
                Long2ObjectHashMap<RoaringBitmap> bitmaps = readBitmaps(channel, header, path);
                return new LayerFile(id, path, disk, channel, header, size, arena, entries, bitmaps);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static Long2ObjectHashMap<RoaringBitmap> readBitmaps(FileChannel channel, LayerFormat.Header header,
                                                                Path path) throws IOException {
        ByteBuffer bitmapSection = ByteBuffer.allocate((int) header.bitmapLength());
        readFully(channel, bitmapSection, header.bitmapOffset(), path);
        int sectionLength = bitmapSection.capacity() - 4;
        if (bitmapSection.getInt(sectionLength) != LayerFormat.crc(bitmapSection.array(), 0, sectionLength)) {
            throw new IOException("layer file " + path + ": bitmap checksum mismatch at offset "
                    + header.bitmapOffset());
        }
        return decodeBitmaps(bitmapSection, sectionLength, path, header.bitmapOffset());
    }

    private static Long2ObjectHashMap<RoaringBitmap> decodeBitmaps(ByteBuffer b, int length, Path path, long offset)
            throws IOException {
        Long2ObjectHashMap<RoaringBitmap> map = new Long2ObjectHashMap<>();
        try {
            b.clear();
            b.limit(length);
            int count = b.getInt();
            for (int i = 0; i < count; i++) {
                long inode = b.getLong();
                int n = b.getInt();
                ByteBuffer slice = b.slice(b.position(), n);
                RoaringBitmap bitmap = new RoaringBitmap();
                bitmap.deserialize(slice);
                b.position(b.position() + n);
                map.put(inode, bitmap);
            }
            if (b.hasRemaining()) {
                throw new IOException("layer file " + path + ": trailing bytes in bitmaps at offset " + (offset + b.position()));
            }
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IOException("layer file " + path + ": undecodable bitmaps at offset " + (offset + b.position()), e);
        }
        return map;
    }

    private IOException corrupt(String what, long offset) {
        return new CorruptFileException(path, offset, what);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path path) throws IOException {
        long start = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new EOFException("layer file " + path + " is truncated: reading " + buffer.capacity()
                        + " bytes at offset " + start + " hit the end at offset " + position);
            }
            position += n;
        }
    }

    private int compare(int i, long inode, long block, long lsn) {
        int c = Keys.compare(inode(i), block(i), inode, block);
        return c != 0 ? c : Long.compare(lsn(i), lsn);
    }

    /** Whether the key may have versions here (bitmap check, no I/O). */
    boolean mayContain(long inode, long block) {
        RoaringBitmap b = bitmaps.get(inode);
        return b != null && b.contains(Keys.bitmapMember(block));
    }

    /**
     * The newest version of the key at or below {@code lsn} in this file, or null.
     *
     * @throws IOException naming the file and offset if the stored value is corrupt
     */
    Object get(long inode, long block, long lsn, PageCache cache) throws IOException {
        if (lsn < header.minLsn() || !mayContain(inode, block)) {
            return null;
        }
        try {
            int lo = 0, hi = entryCount - 1, found = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (compare(mid, inode, block, lsn) <= 0) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            if (found < 0 || inode(found) != inode || block(found) != block) {
                return null;
            }
            return value(found, cache);
        } catch (IllegalStateException e) {
            throw closedDuringRead(e);
        }
    }

    /** A read that raced with {@link #close}: the mapping is gone (the arena says so, safely). */
    private IOException closedDuringRead(IllegalStateException e) {
        return new IOException("layer file " + path + " is closed", e);
    }

    /**
     * Reads stored bytes. An interrupt of a thread inside a FileChannel read closes the channel
     * for every thread: the file is reopened so that only the interrupted read fails.
     */
    private void readValue(ByteBuffer stored, long offset) throws IOException {
        // An interrupt would close the channel under every reader: hold it back during the read.
        boolean interrupted = Thread.interrupted();
        try {
            readValueInterruptibly(stored, offset);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void readValueInterruptibly(ByteBuffer stored, long offset) throws IOException {
        while (true) {
            try {
                readFully(channel(), stored, offset, path);
                return;
            } catch (java.nio.channels.ClosedChannelException e) {
                if (closed) {
                    throw new IOException("layer file " + path + " is closed", e);
                }
                if (e instanceof java.nio.channels.ClosedByInterruptException || Thread.currentThread().isInterrupted()) {
                    java.io.InterruptedIOException i = new java.io.InterruptedIOException(
                            "interrupted while reading layer file " + path);
                    i.initCause(e);
                    throw i;
                }
                stored.clear();
            }
        }
    }

    private FileChannel channel() throws IOException {
        FileChannel c = channel;
        if (c.isOpen() || closed) {
            return c;
        }
        synchronized (this) {
            if (!channel.isOpen() && !closed) {
                channel = disk.open(path, StandardOpenOption.READ);
            }
            return channel;
        }
    }

    private Object value(int i, PageCache cache) throws IOException {
        byte kind = valueKind(i);
        if (kind == ValueCodec.ZERO_PAGE) {
            return Tombstone.ZERO_PAGE;
        }
        if (kind == ValueCodec.DELETED) {
            return Tombstone.DELETED;
        }
        PageCache.Key key = new PageCache.Key(id, i);
        Object cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        int length = storedLength(i);
        long offset = valueOffset(i);
        ByteBuffer stored = ByteBuffer.allocate(length);
        readValue(stored, offset);
        stored.flip();
        CRC32C crc = new CRC32C();
        crc.update(stored.array(), 0, length);
        if ((int) crc.getValue() != valueCrc(i)) {
            throw corrupt("checksum mismatch in the value of " + Keys.describe(inode(i), block(i)) + " at LSN "
                    + Lsn.format(lsn(i)), offset);
        }
        ByteBuffer payload;
        if (encoding(i) == LayerFormat.ENCODING_LZ4) {
            byte[] page = new byte[Namespace.PAGE_SIZE];
            try {
                int n = LZ4.decompress(stored.array(), 0, length, page, 0, page.length);
                if (n != page.length) {
                    throw corrupt("page decompressed to " + n + " bytes", offset);
                }
            } catch (LZ4Exception e) {
                throw new IOException("layer file " + path + ": undecodable page at offset " + offset, e);
            }
            payload = ByteBuffer.wrap(page);
        } else if (encoding(i) == LayerFormat.ENCODING_RAW) {
            payload = stored;
        } else {
            throw corrupt("unknown encoding " + encoding(i), offset);
        }
        Object value;
        try {
            value = ValueCodec.decode(kind, inode(i), payload);
        } catch (IllegalArgumentException e) {
            throw new IOException("layer file " + path + ": undecodable value at offset " + offset + ": "
                    + e.getMessage(), e);
        }
        cache.put(key, value);
        return value;
    }

    long id() {
        return id;
    }

    Path path() {
        return path;
    }

    long size() {
        return fileSize;
    }

    long minLsn() {
        return header.minLsn();
    }

    long maxLsn() {
        return header.maxLsn();
    }

    int entryCount() {
        return entryCount;
    }

    // Index entries by position (for merges and usage accounting; entries sorted by key, LSN).
    // They read the mapping: after close they throw IllegalStateException.

    private long entryAt(int i) {
        return (long) i * LayerFormat.ENTRY_LENGTH;
    }

    long inode(int i) {
        return index.get(LONG, entryAt(i) + LayerFormat.ENTRY_INODE_OFFSET);
    }

    long block(int i) {
        return index.get(LONG, entryAt(i) + LayerFormat.ENTRY_BLOCK_OFFSET);
    }

    long lsn(int i) {
        return index.get(LONG, entryAt(i) + LayerFormat.ENTRY_LSN_OFFSET);
    }

    long valueOffset(int i) {
        return index.get(LONG, entryAt(i) + LayerFormat.ENTRY_VALUE_OFFSET_OFFSET);
    }

    int storedLength(int i) {
        return index.get(INT, entryAt(i) + LayerFormat.ENTRY_STORED_LENGTH_OFFSET);
    }

    byte valueKind(int i) {
        return index.get(ValueLayout.JAVA_BYTE, entryAt(i) + LayerFormat.ENTRY_KIND_OFFSET);
    }

    byte encoding(int i) {
        return index.get(ValueLayout.JAVA_BYTE, entryAt(i) + LayerFormat.ENTRY_ENCODING_OFFSET);
    }

    int valueCrc(int i) {
        return index.get(INT, entryAt(i) + LayerFormat.ENTRY_CRC_OFFSET);
    }

    byte kind() {
        return header.kind();
    }

    /** Offset just past the values section (where the index starts). */
    long valuesEnd() {
        return header.indexOffset();
    }

    /**
     * Reads raw bytes of the values section (a merge streams them in order) into
     * {@code destination}'s remaining space.
     */
    void readRaw(ByteBuffer destination, long position) throws IOException {
        if (position < LayerFormat.HEADER_LENGTH || position + destination.remaining() > header.indexOffset()) {
            throw corrupt("raw read of " + destination.remaining() + " bytes outside the values", position);
        }
        readValue(destination, position);
    }

    /** Whether the value of entry {@code i}, stored in {@code bytes[from, from + length)}, matches its CRC. */
    boolean valueMatches(int i, byte[] bytes, int from) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, from, storedLength(i));
        return (int) crc.getValue() == valueCrc(i);
    }

    /**
     * Reads every stored value and checks its CRC32C ({@code store verify}); returns the number
     * checked, or throws naming the first bad one's file and offset.
     */
    int verifyValues() throws IOException {
        int n = header.entryCount();
        byte[] buffer = new byte[0];
        for (int i = 0; i < n; i++) {
            byte kind = valueKind(i);
            if (kind == ValueCodec.ZERO_PAGE || kind == ValueCodec.DELETED) {
                continue;
            }
            int length = storedLength(i);
            if (buffer.length < length) {
                buffer = new byte[length];
            }
            ByteBuffer b = ByteBuffer.wrap(buffer, 0, length);
            readValue(b, valueOffset(i));
            if (!valueMatches(i, buffer, 0)) {
                throw valueCorrupt(i);
            }
        }
        return n;
    }

    /** The error for entry {@code i}'s value failing its checksum. */
    IOException valueCorrupt(int i) {
        return corrupt("checksum mismatch in the value of " + Keys.describe(inode(i), block(i)) + " at LSN "
                + Lsn.format(lsn(i)), valueOffset(i));
    }

    TimelineId timeline() {
        return header.timeline();
    }

    Map<Long, RoaringBitmap> bitmaps() {
        return bitmaps;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } finally {
            arena.close();
        }
    }
}
