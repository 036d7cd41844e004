package dev.pgbranch.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PgMessageEncoderTest {

    private static byte[] encode(PgMessage m) {
        EmbeddedChannel ch = new EmbeddedChannel(PgMessageEncoder.INSTANCE);
        ch.writeOutbound(m);
        ByteBuf out = ch.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        return bytes;
    }

    @Test
    void fatalErrorResponseCarriesSeveritySqlstateAndMessage() {
        byte[] b = encode(PgMessage.ErrorResponse.fatal("3D000", "branch \"x\" does not exist"));
        assertEquals('E', b[0]);
        assertEquals(b.length - 1, Unpooled.wrappedBuffer(b).getInt(1));
        String body = new String(b, 5, b.length - 5, java.nio.charset.StandardCharsets.UTF_8);
        assertEquals("SFATAL\0VFATAL\0C3D000\0Mbranch \"x\" does not exist\0\0", body);
        assertEquals("3D000: branch \"x\" does not exist", RawPgClient.errorText(new RawPgClient.Message('E',
                java.util.Arrays.copyOfRange(b, 5, b.length))));
    }

    @Test
    void negotiateProtocolVersionListsTheRefusedOptions() {
        byte[] b = encode(new PgMessage.NegotiateProtocolVersion(0, List.of("_pq_.a", "_pq_.b")));
        ByteBuf buf = Unpooled.wrappedBuffer(b);
        assertEquals('v', buf.readByte());
        assertEquals(b.length - 1, buf.readInt());
        assertEquals(0, buf.readInt());
        assertEquals(2, buf.readInt());
        assertEquals("_pq_.a\0_pq_.b\0", buf.toString(java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void backendKeyDataIsTwelveBytesAfterItsType() {
        assertArrayEquals(new byte[] {'K', 0, 0, 0, 12, 0, 0, 0, 7, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFE},
                encode(new PgMessage.BackendKeyData(7, -2)));
    }

    @Test
    void startupMessageRoundTripsThroughTheDecoder() {
        var original = new PgMessage.StartupMessage(3, 0, Map.of("user", "u"));
        EmbeddedChannel decoder = new EmbeddedChannel(new StartupDecoder());
        decoder.writeInbound(Unpooled.wrappedBuffer(encode(original)));
        assertEquals(original, decoder.readInbound());
    }

    @Test
    void cancelRequestRoundTripsThroughTheDecoder() {
        EmbeddedChannel decoder = new EmbeddedChannel(new StartupDecoder());
        decoder.writeInbound(Unpooled.wrappedBuffer(encode(new PgMessage.CancelRequest(42, new byte[] {9, 8, 7, 6}))));
        PgMessage.CancelRequest c = decoder.readInbound();
        assertEquals(42, c.processId());
        assertArrayEquals(new byte[] {9, 8, 7, 6}, c.secret());
    }

    @Test
    void prometheusLabelValuesAreEscaped() {
        assertEquals("a\\\\b\\\"c\\nd", ProxyMetrics.escape("a\\b\"c\nd"));
    }
}
