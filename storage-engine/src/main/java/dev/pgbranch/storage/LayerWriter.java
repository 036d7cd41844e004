package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.roaringbitmap.RoaringBitmap;

/**
 * Writes a frozen {@link InMemoryLayer} as a delta layer file ({@link LayerFormat}): values,
 * then index and bitmaps, then the header at offset 0; to {@code name.tmp}, fsync, rename to
 * {@code name}, fsync the directory.
 *
 * <p>Thread-safety: stateless; each call writes its own file.
 *
 * <p>Crash behaviour: a crash leaves at most a {@code .tmp} file (deleted on open) or a complete
 * file not yet listed in the manifest (also deleted on open).
 */
final class LayerWriter {

    /**
     * Compression is the flusher's main CPU cost: the JNI build of LZ4 does it in about a third of
     * the pure-Java one's time. Our own pages are the only input, so the native code never sees
     * untrusted data; reading stays on the bounds-checked Java decompressor ({@link LayerFile}).
     */
    private static final LZ4Compressor LZ4 = compressor();
    private static final int BUFFER_BYTES = 1 << 20;

    private LayerWriter() {
    }

    private static LZ4Compressor compressor() {
        try {
            return LZ4Factory.nativeInstance().fastCompressor();
        } catch (Throwable e) { // no native build for this platform, or native access denied
            System.getLogger(LayerWriter.class.getName()).log(System.Logger.Level.INFO,
                    "native LZ4 unavailable (" + e + "); compressing layers in Java");
            return LZ4Factory.safeInstance().fastCompressor();
        }
    }

    static void write(Path file, TimelineId timeline, InMemoryLayer layer, boolean fsync, Disk disk) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        int count = layer.size();
        ByteBuffer index = ByteBuffer.allocate(count * LayerFormat.ENTRY_LENGTH + 4);
        TreeMap<Long, RoaringBitmap> bitmaps = new TreeMap<>();
        long minInode = Long.MAX_VALUE, minBlock = Long.MAX_VALUE, maxInode = Long.MIN_VALUE, maxBlock = Long.MIN_VALUE;
        long minLsn = Long.MAX_VALUE, maxLsn = Long.MIN_VALUE;
        int written = 0;
        try (FileChannel out = disk.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
            long position = LayerFormat.HEADER_LENGTH;
            out.position(position);
            byte[] compressed = new byte[LZ4.maxCompressedLength(Namespace.PAGE_SIZE)];
            for (Map.Entry<InMemoryLayer.Version, Object> e : layer.entries()) {
                if (written == count) {
                    break; // frozen layers do not grow; defensive against a miscount
                }
                InMemoryLayer.Version v = e.getKey();
                Object value = e.getValue();
                byte kind = ValueCodec.kindOf(value);
                byte encoding = LayerFormat.ENCODING_RAW;
                byte[] stored;
                int storedLength;
                if (value instanceof byte[] page) {
                    int n = LZ4.compress(page, 0, page.length, compressed, 0, compressed.length);
                    if (n < page.length) {
                        stored = compressed;
                        storedLength = n;
                        encoding = LayerFormat.ENCODING_LZ4;
                    } else {
                        stored = page;
                        storedLength = page.length;
                    }
                } else {
                    stored = ValueCodec.encode(value);
                    storedLength = stored.length;
                }
                CRC32C crc = new CRC32C();
                crc.update(stored, 0, storedLength);
                index.putLong(v.inode()).putLong(v.block()).putLong(v.lsn()).putLong(position)
                        .putInt(storedLength).put(kind).put(encoding).putInt((int) crc.getValue());
                if (buffer.remaining() < storedLength) {
                    drain(out, buffer);
                }
                buffer.put(stored, 0, storedLength);
                position += storedLength;
                bitmaps.computeIfAbsent(v.inode(), k -> new RoaringBitmap()).add(Keys.bitmapMember(v.block()));
                if (written == 0) {
                    minInode = v.inode();
                    minBlock = v.block();
                }
                maxInode = v.inode();
                maxBlock = v.block();
                minLsn = Math.min(minLsn, v.lsn());
                maxLsn = Math.max(maxLsn, v.lsn());
                written++;
            }
            if (written != count || count == 0) {
                throw new IllegalStateException("layer changed while being written (" + written + " of " + count + ")");
            }
            index.putInt(LayerFormat.crc(index.array(), 0, count * LayerFormat.ENTRY_LENGTH));
            drain(out, buffer);
            long indexOffset = position;
            index.flip();
            writeFully(out, index, indexOffset);
            long bitmapOffset = indexOffset + index.limit();
            ByteBuffer bitmapSection = encodeBitmaps(bitmaps);
            writeFully(out, bitmapSection, bitmapOffset);
            LayerFormat.Header header = new LayerFormat.Header(LayerFormat.KIND_DELTA, timeline, minLsn, maxLsn,
                    minInode, minBlock, maxInode, maxBlock, count, indexOffset, index.limit(), bitmapOffset,
                    bitmapSection.limit());
            writeFully(out, header.encode(), 0);
            if (fsync) {
                out.force(true);
            }
        } catch (IOException | RuntimeException e) {
            disk.deleteIfExists(tmp);
            throw e;
        }
        disk.move(tmp, file);
        if (fsync) {
            disk.syncDirectory(file.getParent());
        }
    }

    static ByteBuffer encodeBitmaps(TreeMap<Long, RoaringBitmap> bitmaps) {
        int length = 4;
        for (RoaringBitmap b : bitmaps.values()) {
            b.runOptimize();
            length += 8 + 4 + b.serializedSizeInBytes();
        }
        ByteBuffer section = ByteBuffer.allocate(length + 4);
        section.putInt(bitmaps.size());
        for (Map.Entry<Long, RoaringBitmap> e : bitmaps.entrySet()) {
            section.putLong(e.getKey());
            section.putInt(e.getValue().serializedSizeInBytes());
            e.getValue().serialize(section);
        }
        section.putInt(LayerFormat.crc(section.array(), 0, length));
        section.flip();
        return section;
    }

    static void drain(FileChannel out, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
        buffer.clear();
    }

    static void writeFully(FileChannel out, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            position += out.write(b, position);
        }
    }
}
