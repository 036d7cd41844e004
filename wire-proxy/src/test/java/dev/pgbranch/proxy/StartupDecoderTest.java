package dev.pgbranch.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupDecoderTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder());

    private static ByteBuf packet(int code, int... body) {
        ByteBuf b = Unpooled.buffer().writeInt(8 + body.length).writeInt(code);
        for (int x : body) {
            b.writeByte(x);
        }
        return b;
    }

    private static ProtocolException rejected(EmbeddedChannel channel, ByteBuf in) {
        return assertThrows(ProtocolException.class, () -> channel.writeInbound(in));
    }

    @Test
    void startupMessageDecodesVersionAndParametersInOrder() {
        byte[] packet = RawPgClient.startupPacket(3, 0, RawPgClient.params("user", "alex", "database", "app", "options", "branch=dev/alex"));
        channel.writeInbound(Unpooled.wrappedBuffer(packet));
        PgMessage.StartupMessage m = channel.readInbound();
        assertEquals(3, m.majorVersion());
        assertEquals(0, m.minorVersion());
        assertEquals(List.of("user", "database", "options"), List.copyOf(m.parameters().keySet()));
        assertEquals("branch=dev/alex", m.parameters().get("options"));
    }

    @Test
    void startupMessageSplitAcrossReadsIsDecodedOnceComplete() {
        byte[] packet = RawPgClient.startupPacket(3, 0, RawPgClient.params("user", "alex"));
        channel.writeInbound(Unpooled.wrappedBuffer(packet, 0, 3));
        assertNull(channel.readInbound());
        channel.writeInbound(Unpooled.wrappedBuffer(packet, 3, 7));
        assertNull(channel.readInbound());
        channel.writeInbound(Unpooled.wrappedBuffer(packet, 10, packet.length - 10));
        assertInstanceOf(PgMessage.StartupMessage.class, channel.readInbound());
    }

    @Test
    void minorVersionAboveZeroIsReportedForNegotiation() {
        channel.writeInbound(Unpooled.wrappedBuffer(RawPgClient.startupPacket(3, 2, RawPgClient.params("user", "a"))));
        PgMessage.StartupMessage m = channel.readInbound();
        assertEquals(2, m.minorVersion());
    }

    @Test
    void protocolVersionTwoIsRejectedAsUnsupported() {
        ProtocolException e = rejected(channel, Unpooled.wrappedBuffer(RawPgClient.startupPacket(2, 0, Map.of("user", "a"))));
        assertEquals("0A000", e.sqlState());
        assertTrue(e.getMessage().contains("unsupported frontend protocol 2.0"), e.getMessage());
    }

    @Test
    void sslRequestAndGssEncRequestAreRecognised() {
        channel.writeInbound(packet(PgMessage.GSSENC_REQUEST_CODE));
        assertEquals(PgMessage.GssEncRequest.INSTANCE, channel.readInbound());
        channel.writeInbound(packet(PgMessage.SSL_REQUEST_CODE));
        assertEquals(PgMessage.SslRequest.INSTANCE, channel.readInbound());
    }

    @Test
    void bytesSentTogetherWithSslRequestAreRefused() {
        ByteBuf in = packet(PgMessage.SSL_REQUEST_CODE);
        in.writeBytes(RawPgClient.startupPacket(3, 0, Map.of("user", "a")));
        ProtocolException e = rejected(channel, in);
        assertEquals("08P01", e.sqlState());
        assertTrue(e.getMessage().contains("unencrypted data after SSL"), e.getMessage());
    }

    @Test
    void cancelRequestCarriesPidAndSecret() {
        channel.writeInbound(packet(PgMessage.CANCEL_REQUEST_CODE, 0, 0, 0x30, 0x39, 1, 2, 3, 4));
        PgMessage.CancelRequest c = channel.readInbound();
        assertEquals(12345, c.processId());
        assertArrayEquals(new byte[] {1, 2, 3, 4}, c.secret());
    }

    @Test
    void cancelRequestWithoutAKeyIsRejected() {
        assertEquals("08P01", rejected(channel, packet(PgMessage.CANCEL_REQUEST_CODE, 0, 0, 0, 1)).sqlState());
    }

    @Test
    void startupPacketOver10000BytesIsRejectedBeforeItsBodyArrives() {
        ByteBuf header = Unpooled.buffer().writeInt(10_001).writeInt(3 << 16);
        ProtocolException e = rejected(channel, header);
        assertEquals("08P01", e.sqlState());
        assertTrue(e.getMessage().contains("10001"), e.getMessage());
    }

    @Test
    void startupPacketOfExactly10000BytesIsAccepted() {
        String filler = "x".repeat(10_000 - 8 - "user".length() - 1 - "a".length() - 1 - "application_name".length() - 1 - 1 - 1);
        byte[] packet = RawPgClient.startupPacket(3, 0, RawPgClient.params("user", "a", "application_name", filler));
        assertEquals(10_000, packet.length);
        channel.writeInbound(Unpooled.wrappedBuffer(packet));
        assertInstanceOf(PgMessage.StartupMessage.class, channel.readInbound());
    }

    @Test
    void lengthBelowHeaderSizeIsRejected() {
        assertEquals("08P01", rejected(channel, Unpooled.buffer().writeInt(4).writeInt(0)).sqlState());
        EmbeddedChannel other = new EmbeddedChannel(new StartupDecoder());
        assertEquals("08P01", rejected(other, Unpooled.buffer().writeInt(-1)).sqlState());
    }

    @Test
    void parametersWithoutFinalTerminatorAreRejected() {
        // "user\0alex\0" without the closing NUL of the list.
        ProtocolException e = rejected(channel, packet(3 << 16, 'u', 's', 'e', 'r', 0, 'a', 'l', 'e', 'x', 0));
        assertEquals("08P01", e.sqlState());
        assertTrue(e.getMessage().contains("expected terminator"), e.getMessage());
    }

    @Test
    void valueCutShortInsideThePacketIsRejected() {
        assertEquals("08P01", rejected(channel, packet(3 << 16, 'u', 's', 'e', 'r', 0, 'a')).sqlState());
    }

    @Test
    void truncatedPacketWaitsForMoreBytesAndProducesNothing() {
        channel.writeInbound(Unpooled.buffer().writeInt(100).writeInt(3 << 16).writeBytes(new byte[20]));
        assertNull(channel.readInbound());
        channel.finish();
        assertNull(channel.readInbound());
    }

    @Test
    void invalidUtf8InParametersIsRejected() {
        assertEquals("08P01", rejected(channel, packet(3 << 16, 'u', 0, 0xC3, 0x28, 0, 0)).sqlState());
    }

    @Test
    void bytesAfterTheStartupMessageStayBufferedForTheSession() {
        ByteBuf in = Unpooled.wrappedBuffer(RawPgClient.startupPacket(3, 0, Map.of("user", "a")));
        ByteBuf both = Unpooled.buffer().writeBytes(in).writeBytes(new byte[] {'Q', 0, 0, 0, 5, 0});
        channel.writeInbound(both);
        assertInstanceOf(PgMessage.StartupMessage.class, channel.readInbound());
        assertNull(channel.readInbound());
        channel.pipeline().removeFirst();
        ByteBuf rest = channel.readInbound();
        assertEquals(6, rest.readableBytes());
        assertEquals('Q', rest.getByte(rest.readerIndex()));
        rest.release();
    }
}
