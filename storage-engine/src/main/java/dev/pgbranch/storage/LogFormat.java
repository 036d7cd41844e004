package dev.pgbranch.storage;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Record format of the ingest log (logic in {@link IngestLog}). Big-endian throughout.
 *
 * <pre>
 *  segment file  wal/&lt;base position, 16 hex digits&gt;.log  -- records back to back, no header;
 *                a pre-allocated segment is zero after its last record (a zero length is no
 *                record: the segment's records end there)
 *
 *  record        0        4        8                                   8 + length
 *                +--------+--------+-----------------------------------+
 *                | length | crc32c | body (length bytes)               |
 *                +--------+--------+-----------------------------------+
 *                  u32      u32 of body
 *
 *  body          timeline high i64 | timeline low i64 | lsn i64 | type u8
 *                | synced i64 (type 2 only) | count u32 | count x put
 *                type 1: written before format 2 (no synced field); type 2: synced is the log
 *                position that was durable when the record was appended
 *  put           inode i64 | block i64 | value kind u8 | payload length u32 | payload
 *                (kinds and payloads as in {@link ValueCodec})
 * </pre>
 *
 * <p>A record is valid if its length is within bounds, the whole body is present and its CRC32C
 * matches. The {@code synced} field is what lets recovery tell a torn write from damaged
 * history: a valid record whose {@code synced} lies past an invalid one proves that the invalid
 * one had been made durable, so it was damaged afterwards (see {@link LogRecovery}).
 *
 * <p>Thread-safety: stateless.
 */
final class LogFormat {

    static final int HEADER_LENGTH = 8;
    /** Offsets within a body. */
    static final int TIMELINE_OFFSET = 0;
    static final int LSN_OFFSET = 16;
    static final int TYPE_OFFSET = 24;
    static final int SYNCED_OFFSET = 25;
    /** A batch without the synced field (format 1, still read). */
    static final byte TYPE_BATCH = 1;
    /** A batch with the synced field (written since format 2). */
    static final byte TYPE_BATCH_SYNCED = 2;
    /** The smallest body of either type (type 1: no synced field). */
    static final int BODY_FIXED_LENGTH = 8 + 8 + 8 + 1 + 4;
    static final int SYNCED_BODY_FIXED_LENGTH = BODY_FIXED_LENGTH + 8;
    /** What a record of an unknown synced position (type 1) reports. */
    static final long SYNCED_UNKNOWN = -1;
    static final int PUT_FIXED_LENGTH = 8 + 8 + 1 + 4;
    /** Larger lengths are corruption, not records: bounds what recovery allocates. */
    static final int MAX_BODY_LENGTH = 1 << 30;

    private LogFormat() {
    }

    static ByteBuffer encode(TimelineId timeline, long lsn, long synced, Batch batch) {
        long bodyLength = SYNCED_BODY_FIXED_LENGTH;
        for (Batch.Put p : batch.puts()) {
            bodyLength += PUT_FIXED_LENGTH + ValueCodec.payloadLength(p.value());
        }
        if (bodyLength > MAX_BODY_LENGTH) {
            throw new IllegalArgumentException("mutation too large for one log record: " + bodyLength + " bytes");
        }
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_LENGTH + (int) bodyLength);
        buffer.position(HEADER_LENGTH);
        buffer.putLong(timeline.high());
        buffer.putLong(timeline.low());
        buffer.putLong(lsn);
        buffer.put(TYPE_BATCH_SYNCED);
        buffer.putLong(synced);
        buffer.putInt(batch.puts().size());
        for (Batch.Put p : batch.puts()) {
            buffer.putLong(p.inode());
            buffer.putLong(p.block());
            buffer.put(ValueCodec.kindOf(p.value()));
            buffer.putInt(ValueCodec.payloadLength(p.value()));
            ValueCodec.writePayload(p.value(), buffer);
        }
        CRC32C crc = new CRC32C();
        crc.update(buffer.array(), HEADER_LENGTH, (int) bodyLength);
        buffer.putInt(0, (int) bodyLength);
        buffer.putInt(4, (int) crc.getValue());
        buffer.flip();
        return buffer;
    }

    /**
     * A decoded record.
     *
     * @param synced the log position durable when it was appended, or {@link #SYNCED_UNKNOWN}
     */
    record Record(TimelineId timeline, long lsn, long synced, Batch batch) {
    }

    /** Whether a body of this type byte is a known record type. */
    static boolean knownType(byte type) {
        return type == TYPE_BATCH || type == TYPE_BATCH_SYNCED;
    }

    static int crc(ByteBuffer body) {
        CRC32C crc = new CRC32C();
        crc.update(body.duplicate());
        return (int) crc.getValue();
    }

    /**
     * Decodes a body whose CRC already matched.
     *
     * @throws IllegalArgumentException if it does not parse (a CRC collision or a bug)
     */
    static Record decode(ByteBuffer body) {
        try {
            TimelineId timeline = new TimelineId(body.getLong(), body.getLong());
            long lsn = body.getLong();
            byte type = body.get();
            if (!knownType(type)) {
                throw new IllegalArgumentException("unknown record type " + type);
            }
            long synced = type == TYPE_BATCH_SYNCED ? body.getLong() : SYNCED_UNKNOWN;
            int count = body.getInt();
            if (count < 0) {
                throw new IllegalArgumentException("negative put count");
            }
            Batch batch = new Batch();
            for (int i = 0; i < count; i++) {
                long inode = body.getLong();
                long block = body.getLong();
                byte kind = body.get();
                int length = body.getInt();
                if (length < 0 || length > body.remaining()) {
                    throw new IllegalArgumentException("bad payload length " + length);
                }
                ByteBuffer payload = body.slice(body.position(), length);
                body.position(body.position() + length);
                batch.put(inode, block, ValueCodec.decode(kind, inode, payload));
            }
            if (body.hasRemaining()) {
                throw new IllegalArgumentException(body.remaining() + " trailing bytes");
            }
            return new Record(timeline, lsn, synced, batch);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("record cut short", e);
        }
    }
}
