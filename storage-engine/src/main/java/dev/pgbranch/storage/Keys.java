package dev.pgbranch.storage;

/**
 * The engine's key space. A key is {@code (inode, block)}, ordered as two signed longs; a
 * version of a key is that pair plus the LSN that wrote it.
 *
 * <pre>
 *   (inode, 0 .. MAX_BLOCKS-1)   8 KB page images of a file (or ZERO_PAGE tombstones)
 *   (inode, ATTRIBUTES)          the inode record (kind, mode, owner, size, times, parent)
 *   (inode, DIRECTORY)           a directory's whole entry list
 *   (COUNTER_INODE, ATTRIBUTES)  the next inode number of the lineage
 * </pre>
 *
 * <p>Metadata blocks are negative so that, viewed as unsigned 32-bit integers in the per-inode
 * block bitmaps of layer files, they sort after every page block.
 *
 * <p>Thread-safety: constants and pure functions only.
 */
final class Keys {

    /** A file holds at most 2^31 pages (16 TiB): page numbers fit a bitmap's 32 bits. */
    static final long MAX_BLOCKS = 1L << 31;

    static final long ATTRIBUTES = -1;
    static final long DIRECTORY = -2;

    /** Not a real inode: holds the inode counter so that a branch continues its ancestor's. */
    static final long COUNTER_INODE = 0;

    private Keys() {
    }

    static int compare(long inode1, long block1, long inode2, long block2) {
        int c = Long.compare(inode1, inode2);
        return c != 0 ? c : Long.compare(block1, block2);
    }

    /** The block as a bitmap member (metadata blocks map to 0xFFFFFFFF, 0xFFFFFFFE). */
    static int bitmapMember(long block) {
        return (int) block;
    }

    static String describe(long inode, long block) {
        if (block == ATTRIBUTES) {
            return inode == COUNTER_INODE ? "(inode counter)" : "(inode " + inode + " attributes)";
        }
        if (block == DIRECTORY) {
            return "(inode " + inode + " directory)";
        }
        return "(inode " + inode + " block " + block + ")";
    }
}
