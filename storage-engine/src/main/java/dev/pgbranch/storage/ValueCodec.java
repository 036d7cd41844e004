package dev.pgbranch.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Serialized form of a value, shared by the ingest log and layer files. A value is a kind byte
 * (stored beside it: in the log's put header, in the layer index) and a payload. All integers
 * are big-endian.
 *
 * <pre>
 *  kind  value            payload
 *  ----  ---------------  ------------------------------------------------------------------
 *   1    page image       8192 bytes
 *   2    ZERO_PAGE        (empty)
 *   3    DELETED          (empty)
 *   4    inode record     kind u8 | mode i32 | uid i32 | gid i32 | size i64
 *                         | mtime seconds i64 | mtime nanos i32 | ctime seconds i64
 *                         | ctime nanos i32 | parent i64 | highWaterBlocks i64      (61 bytes)
 *   5    directory        count i32 | count x ( nameLength u16 | UTF-8 name | inode i64
 *                         | kind u8 )
 *   6    inode counter    next i64
 * </pre>
 *
 * <p>In memory a value is a {@code byte[]} page, a {@link Tombstone}, an {@link InodeRecord},
 * a {@link DirectoryRecord} or an {@link InodeCounter}.
 *
 * <p>Thread-safety: stateless.
 */
final class ValueCodec {

    static final byte PAGE = 1;
    static final byte ZERO_PAGE = 2;
    static final byte DELETED = 3;
    static final byte INODE = 4;
    static final byte DIRECTORY = 5;
    static final byte COUNTER = 6;

    private static final int INODE_LENGTH = 1 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 4 + 8 + 8;

    private ValueCodec() {
    }

    static byte kindOf(Object value) {
        return switch (value) {
            case byte[] ignored -> PAGE;
            case Tombstone t -> t == Tombstone.ZERO_PAGE ? ZERO_PAGE : DELETED;
            case InodeRecord ignored -> INODE;
            case DirectoryRecord ignored -> DIRECTORY;
            case InodeCounter ignored -> COUNTER;
            default -> throw new IllegalArgumentException("not a value: " + value.getClass());
        };
    }

    static int payloadLength(Object value) {
        return switch (value) {
            case byte[] page -> page.length;
            case Tombstone ignored -> 0;
            case InodeRecord ignored -> INODE_LENGTH;
            case DirectoryRecord dir -> directoryLength(dir);
            case InodeCounter ignored -> 8;
            default -> throw new IllegalArgumentException("not a value: " + value.getClass());
        };
    }

    /** Approximate heap footprint, for the in-memory layer's size and the page cache's weight. */
    static int weight(Object value) {
        return 48 + payloadLength(value);
    }

    private static int directoryLength(DirectoryRecord dir) {
        int length = 4;
        for (int i = 0; i < dir.size(); i++) {
            length += 2 + utf8Length(dir.name(i)) + 8 + 1;
        }
        return length;
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    static void writePayload(Object value, ByteBuffer out) {
        switch (value) {
            case byte[] page -> out.put(page);
            case Tombstone ignored -> {
            }
            case InodeRecord r -> {
                out.put((byte) r.kind().ordinal());
                out.putInt(r.mode());
                out.putInt(r.uid());
                out.putInt(r.gid());
                out.putLong(r.size());
                out.putLong(r.modified().getEpochSecond());
                out.putInt(r.modified().getNano());
                out.putLong(r.changed().getEpochSecond());
                out.putInt(r.changed().getNano());
                out.putLong(r.parent());
                out.putLong(r.highWaterBlocks());
            }
            case DirectoryRecord dir -> {
                out.putInt(dir.size());
                for (int i = 0; i < dir.size(); i++) {
                    byte[] name = dir.name(i).getBytes(StandardCharsets.UTF_8);
                    out.putShort((short) name.length);
                    out.put(name);
                    out.putLong(dir.inode(i));
                    out.put((byte) dir.kind(i).ordinal());
                }
            }
            case InodeCounter c -> out.putLong(c.next());
            default -> throw new IllegalArgumentException("not a value: " + value.getClass());
        }
    }

    static byte[] encode(Object value) {
        ByteBuffer out = ByteBuffer.allocate(payloadLength(value));
        writePayload(value, out);
        return out.array();
    }

    /**
     * Decodes a payload of {@code in.remaining()} bytes.
     *
     * @param inode the key's inode (an inode record does not repeat it)
     * @throws IllegalArgumentException if the payload does not parse as {@code kind}
     */
    static Object decode(byte kind, long inode, ByteBuffer in) {
        try {
            Object value = switch (kind) {
                case PAGE -> {
                    if (in.remaining() != Namespace.PAGE_SIZE) {
                        throw new IllegalArgumentException("page of " + in.remaining() + " bytes");
                    }
                    byte[] page = new byte[Namespace.PAGE_SIZE];
                    in.get(page);
                    yield page;
                }
                case ZERO_PAGE -> Tombstone.ZERO_PAGE;
                case DELETED -> Tombstone.DELETED;
                case INODE -> {
                    int k = in.get();
                    if (k < 0 || k >= InodeKind.values().length) {
                        throw new IllegalArgumentException("bad inode kind " + k);
                    }
                    int mode = in.getInt();
                    int uid = in.getInt();
                    int gid = in.getInt();
                    long size = in.getLong();
                    Instant mtime = Instant.ofEpochSecond(in.getLong(), in.getInt());
                    Instant ctime = Instant.ofEpochSecond(in.getLong(), in.getInt());
                    long parent = in.getLong();
                    long highWater = in.getLong();
                    yield new InodeRecord(inode, InodeKind.values()[k], mode, uid, gid, size, mtime, ctime,
                            parent, highWater);
                }
                case DIRECTORY -> {
                    int count = in.getInt();
                    if (count < 0 || count > in.remaining() / 11) {
                        throw new IllegalArgumentException("bad entry count " + count);
                    }
                    String[] names = new String[count];
                    long[] inodes = new long[count];
                    InodeKind[] kinds = new InodeKind[count];
                    for (int i = 0; i < count; i++) {
                        byte[] name = new byte[Short.toUnsignedInt(in.getShort())];
                        in.get(name);
                        names[i] = new String(name, StandardCharsets.UTF_8);
                        inodes[i] = in.getLong();
                        int k = in.get();
                        if (k < 0 || k >= InodeKind.values().length) {
                            throw new IllegalArgumentException("bad entry kind " + k);
                        }
                        kinds[i] = InodeKind.values()[k];
                    }
                    yield new DirectoryRecord(names, inodes, kinds);
                }
                case COUNTER -> new InodeCounter(in.getLong());
                default -> throw new IllegalArgumentException("unknown value kind " + kind);
            };
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " trailing bytes after value of kind " + kind);
            }
            return value;
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("value of kind " + kind + " cut short", e);
        }
    }
}
