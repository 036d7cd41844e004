package dev.pgbranch.storage;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * On-disk format of a layer file (logic in {@link LayerWriter} and {@link LayerFile}).
 * Big-endian throughout; offsets are from the start of the file.
 *
 * <pre>
 *  0                 128                       indexOffset          bitmapOffset        end
 *  +-----------------+-------------------------+--------------------+-------------------+
 *  | header          | values                  | index              | block bitmaps     |
 *  +-----------------+-------------------------+--------------------+-------------------+
 *
 *  header (128 bytes)
 *    0  magic           u64   "PGBLAYER"
 *    8  format version  u32   1
 *   12  layer kind      u8    1 = DELTA (versions as written), 2 = IMAGE (one version per key)
 *   13  reserved        3 bytes, zero
 *   16  timeline        i64 high, i64 low
 *   32  LSN range       i64 min, i64 max (inclusive)
 *   48  key range       i64 min inode, i64 min block, i64 max inode, i64 max block (inclusive)
 *   80  entry count     u32
 *   84  index           u64 offset, u64 length (entries + CRC)
 *  100  bitmaps         u64 offset, u64 length (section + CRC)
 *  116  header CRC32C   u32 over bytes 0..115
 *  120  zero padding to 128
 *
 *  values: one after the other, each referenced by exactly one index entry. An 8 KB page is
 *  LZ4-compressed on its own (encoding 1), or kept raw (encoding 0) when that is not smaller;
 *  metadata records are raw (see {@link ValueCodec} for payloads). Tombstones have no bytes.
 *
 *  index: entry count x 42-byte entries sorted by (inode, block, lsn), then CRC32C u32 of them
 *    inode i64 | block i64 | lsn i64 | value offset u64 | stored length u32 | value kind u8
 *    | encoding u8 | value CRC32C u32 (of the stored bytes)
 *
 *  block bitmaps: inode count u32, then per inode (ascending)
 *    inode i64 | length u32 | RoaringBitmap portable serialization of the blocks present
 *    (metadata blocks as the unsigned ints 0xFFFFFFFF / 0xFFFFFFFE)
 *  then CRC32C u32 of the section before it.
 * </pre>
 *
 * <p>A file is written to a temporary name, fsynced, renamed and its directory fsynced: a file
 * with the final name is complete. Any mismatch on reading is reported with the file and offset.
 *
 * <p>Thread-safety: stateless.
 */
final class LayerFormat {

    static final long MAGIC = 0x5047424C41594552L; // "PGBLAYER"
    static final int VERSION = 1;
    static final byte KIND_DELTA = 1;
    static final byte KIND_IMAGE = 2;
    static final int HEADER_LENGTH = 128;
    static final int HEADER_CRC_OFFSET = 116;
    static final int ENTRY_LENGTH = 42;
    // Offsets of an index entry's fields, from the entry's start.
    static final int ENTRY_INODE_OFFSET = 0;
    static final int ENTRY_BLOCK_OFFSET = 8;
    static final int ENTRY_LSN_OFFSET = 16;
    static final int ENTRY_VALUE_OFFSET_OFFSET = 24;
    static final int ENTRY_STORED_LENGTH_OFFSET = 32;
    static final int ENTRY_KIND_OFFSET = 36;
    static final int ENTRY_ENCODING_OFFSET = 37;
    static final int ENTRY_CRC_OFFSET = 38;
    static final byte ENCODING_RAW = 0;
    static final byte ENCODING_LZ4 = 1;

    private LayerFormat() {
    }

    /** The fixed-size header, as written and as read back. */
    record Header(byte kind, TimelineId timeline, long minLsn, long maxLsn, long minInode, long minBlock,
                  long maxInode, long maxBlock, int entryCount, long indexOffset, long indexLength,
                  long bitmapOffset, long bitmapLength) {

        ByteBuffer encode() {
            ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH);
            b.putLong(MAGIC);
            b.putInt(VERSION);
            b.put(kind);
            b.put(new byte[3]);
            b.putLong(timeline.high());
            b.putLong(timeline.low());
            b.putLong(minLsn);
            b.putLong(maxLsn);
            b.putLong(minInode);
            b.putLong(minBlock);
            b.putLong(maxInode);
            b.putLong(maxBlock);
            b.putInt(entryCount);
            b.putLong(indexOffset);
            b.putLong(indexLength);
            b.putLong(bitmapOffset);
            b.putLong(bitmapLength);
            b.putInt(HEADER_CRC_OFFSET, crc(b.array(), 0, HEADER_CRC_OFFSET));
            b.clear();
            return b;
        }

        /** @throws IllegalArgumentException naming what is wrong (the caller adds the file) */
        static Header decode(ByteBuffer b) {
            long magic = b.getLong(0);
            if (magic != MAGIC) {
                throw new IllegalArgumentException(String.format("bad magic 0x%016x at offset 0", magic));
            }
            int version = b.getInt(8);
            if (version != VERSION) {
                throw new IllegalArgumentException("unsupported format version " + version + " at offset 8");
            }
            int stored = b.getInt(HEADER_CRC_OFFSET);
            if (stored != crc(b.array(), 0, HEADER_CRC_OFFSET)) {
                throw new IllegalArgumentException("header checksum mismatch at offset " + HEADER_CRC_OFFSET);
            }
            b.position(12);
            byte kind = b.get();
            if (kind != KIND_DELTA && kind != KIND_IMAGE) {
                throw new IllegalArgumentException("unknown layer kind " + kind + " at offset 12");
            }
            b.position(16);
            Header h = new Header(kind, new TimelineId(b.getLong(), b.getLong()), b.getLong(), b.getLong(),
                    b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getInt(), b.getLong(), b.getLong(),
                    b.getLong(), b.getLong());
            if (h.entryCount < 0 || h.indexLength != (long) h.entryCount * ENTRY_LENGTH + 4) {
                throw new IllegalArgumentException("index length " + h.indexLength + " does not match "
                        + h.entryCount + " entries (header offset 80)");
            }
            return h;
        }
    }

    static int crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
