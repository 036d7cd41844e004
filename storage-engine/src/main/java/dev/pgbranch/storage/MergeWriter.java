package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.TreeMap;
import org.roaringbitmap.RoaringBitmap;

/**
 * Writes a layer file ({@link LayerFormat}) from versions handed over one by one in key order,
 * with their stored bytes as they are (already compressed, CRC carried over): the output of a
 * merge. Values stream through a fixed buffer; only the index (42 bytes per version) and the
 * bitmaps are held until {@link #finish}, so merging a 1 GB timeline needs a few MB of heap.
 *
 * <p>Same crash protocol as {@link LayerWriter}: {@code name.tmp}, fsync, rename, directory
 * fsync. {@link #close()} without {@link #finish} deletes the temporary file.
 *
 * <p>Thread-safety: one thread.
 */
final class MergeWriter implements AutoCloseable {

    private static final int BUFFER_BYTES = 1 << 20;

    private final Path file;
    private final Path tmp;
    private final TimelineId timeline;
    private final boolean fsync;
    private final FileChannel out;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
    private final TreeMap<Long, RoaringBitmap> bitmaps = new TreeMap<>();
    private ByteBuffer index = ByteBuffer.allocate(64 * LayerFormat.ENTRY_LENGTH + 4);
    private long position = LayerFormat.HEADER_LENGTH;
    private int count;
    private long minInode, minBlock, maxInode, maxBlock;
    private long lastInode, lastBlock, lastLsn;
    private boolean finished;
    private final Disk disk;

    MergeWriter(Path file, TimelineId timeline, boolean fsync, Disk disk) throws IOException {
        this.disk = disk;
        this.file = file;
        this.tmp = file.resolveSibling(file.getFileName() + ".tmp");
        this.timeline = timeline;
        this.fsync = fsync;
        this.out = disk.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        try {
            out.position(LayerFormat.HEADER_LENGTH);
        } catch (IOException e) {
            out.close();
            disk.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Appends one version; versions must come in strictly increasing (inode, block, lsn) order. */
    void add(long inode, long block, long lsn, byte kind, byte encoding, int crc, byte[] stored, int from, int length)
            throws IOException {
        if (count > 0) {
            int c = Keys.compare(lastInode, lastBlock, inode, block);
            if (c > 0 || (c == 0 && lastLsn >= lsn)) {
                throw new IllegalStateException("merge out of order at " + Keys.describe(inode, block) + " LSN "
                        + Lsn.format(lsn));
            }
        } else {
            minInode = inode;
            minBlock = block;
        }
        if (count == Integer.MAX_VALUE / LayerFormat.ENTRY_LENGTH - 1) {
            throw new IOException("merged layer " + file + " would exceed the index size limit");
        }
        if (index.remaining() < LayerFormat.ENTRY_LENGTH + 4) {
            long grown = Math.min((long) index.capacity() * 2, (long) Integer.MAX_VALUE - 8);
            ByteBuffer bigger = ByteBuffer.allocate((int) grown);
            index.flip();
            bigger.put(index);
            index = bigger;
        }
        index.putLong(inode).putLong(block).putLong(lsn).putLong(position).putInt(length).put(kind).put(encoding)
                .putInt(crc);
        if (buffer.remaining() < length) {
            LayerWriter.drain(out, buffer);
        }
        if (length > buffer.capacity()) {
            LayerWriter.writeFully(out, ByteBuffer.wrap(stored, from, length), position);
            out.position(position + length);
        } else {
            buffer.put(stored, from, length);
        }
        position += length;
        bitmaps.computeIfAbsent(inode, k -> new RoaringBitmap()).add(Keys.bitmapMember(block));
        maxInode = inode;
        maxBlock = block;
        lastInode = inode;
        lastBlock = block;
        lastLsn = lsn;
        count++;
    }

    int count() {
        return count;
    }

    /**
     * Writes index, bitmaps and header, makes the file durable under its final name and returns
     * its size.
     *
     * @param minLsn lowest LSN the file stands for (at most its lowest version's)
     * @param maxLsn highest LSN it stands for: the inputs' highest, which recovery takes as the
     *     timeline's disk-consistent LSN when this is its newest file
     */
    long finish(byte kind, long minLsn, long maxLsn) throws IOException {
        LayerWriter.drain(out, buffer);
        int entriesLength = count * LayerFormat.ENTRY_LENGTH;
        index.putInt(LayerFormat.crc(index.array(), 0, entriesLength));
        index.flip();
        long indexOffset = position;
        int indexLength = index.limit();
        LayerWriter.writeFully(out, index, indexOffset);
        long bitmapOffset = indexOffset + indexLength;
        ByteBuffer bitmapSection = LayerWriter.encodeBitmaps(bitmaps);
        int bitmapLength = bitmapSection.limit();
        LayerWriter.writeFully(out, bitmapSection, bitmapOffset);
        LayerFormat.Header header = new LayerFormat.Header(kind, timeline, minLsn, maxLsn,
                count == 0 ? 0 : minInode, count == 0 ? 0 : minBlock, count == 0 ? 0 : maxInode,
                count == 0 ? 0 : maxBlock, count, indexOffset, indexLength, bitmapOffset, bitmapLength);
        LayerWriter.writeFully(out, header.encode(), 0);
        if (fsync) {
            out.force(true);
        }
        out.close();
        disk.move(tmp, file);
        finished = true;
        if (fsync) {
            disk.syncDirectory(file.getParent());
        }
        return bitmapOffset + bitmapLength;
    }

    @Override
    public void close() throws IOException {
        out.close();
        if (!finished) {
            disk.deleteIfExists(tmp);
        }
    }
}
