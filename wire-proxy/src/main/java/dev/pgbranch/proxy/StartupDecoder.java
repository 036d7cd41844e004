package dev.pgbranch.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes the untyped packets a client sends before its session exists (format in {@link PgMessage}):
 * SSLRequest, GSSENCRequest, CancelRequest and StartupMessage.
 *
 * <p>Rules enforced here, each failing with a {@link ProtocolException} carrying a SQLSTATE:
 * <ul>
 *   <li>lengths below 8 or above {@value PgMessage#MAX_STARTUP_PACKET} bytes are rejected before the body
 *       is buffered, so a client cannot make the proxy hold more than that;</li>
 *   <li>bytes following an SSLRequest or GSSENCRequest in the same read are refused: they were sent
 *       before encryption was negotiated and must not be processed as if they came over TLS
 *       (the CVE-2021-23214 class);</li>
 *   <li>only protocol major version 3 is accepted; the minor version is reported as sent;</li>
 *   <li>a StartupMessage body must be name/value C strings ending in one extra NUL, in UTF-8.</li>
 * </ul>
 *
 * <p>After a StartupMessage or CancelRequest the decoder stops: later bytes belong to the session
 * and stay buffered until the decoder is removed, which hands them on to the next handler.
 *
 * <p>Not sharable; used by one channel's event loop only.
 */
final class StartupDecoder extends ByteToMessageDecoder {

    private boolean finished;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (finished || in.readableBytes() < 4) {
            return;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 8 || length > PgMessage.MAX_STARTUP_PACKET) {
            finished = true;
            throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION, "invalid length of startup packet: " + length);
        }
        if (in.readableBytes() < length) {
            return;
        }
        int start = in.readerIndex();
        int code = in.getInt(start + 4);
        ByteBuf body = in.slice(start + 8, length - 8);
        in.skipBytes(length);
        switch (code) {
            case PgMessage.SSL_REQUEST_CODE, PgMessage.GSSENC_REQUEST_CODE -> {
                if (length != 8) {
                    finished = true;
                    throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION, "invalid length of encryption request: " + length);
                }
                if (in.isReadable()) {
                    finished = true;
                    throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION,
                            "received unencrypted data after SSL or GSSAPI encryption request");
                }
                out.add(code == PgMessage.SSL_REQUEST_CODE ? PgMessage.SslRequest.INSTANCE : PgMessage.GssEncRequest.INSTANCE);
            }
            case PgMessage.CANCEL_REQUEST_CODE -> {
                finished = true;
                // 3.0: exactly a 4-byte key; 3.2 allows up to 256 bytes.
                if (length < 16 || length > 12 + 256) {
                    throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION, "invalid length of cancel request: " + length);
                }
                int pid = body.readInt();
                byte[] secret = new byte[body.readableBytes()];
                body.readBytes(secret);
                out.add(new PgMessage.CancelRequest(pid, secret));
            }
            default -> {
                finished = true;
                out.add(decodeStartup(code, body));
            }
        }
    }

    private static PgMessage.StartupMessage decodeStartup(int code, ByteBuf body) {
        int major = code >>> 16;
        int minor = code & 0xFFFF;
        if (major != 3) {
            throw new ProtocolException(SqlStates.FEATURE_NOT_SUPPORTED,
                    "unsupported frontend protocol " + major + "." + minor + ": server supports 3.0 to 3.0");
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            String name = readCString(body);
            if (name.isEmpty()) {
                break;
            }
            parameters.put(name, readCString(body));
        }
        if (body.isReadable()) {
            throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION,
                    "invalid startup packet layout: expected terminator as last byte");
        }
        return new PgMessage.StartupMessage(major, minor, parameters);
    }

    private static String readCString(ByteBuf body) {
        int nul = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) 0);
        if (nul < 0) {
            throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION,
                    "invalid startup packet layout: expected terminator as last byte");
        }
        ByteBuffer bytes = body.nioBuffer(body.readerIndex(), nul - body.readerIndex());
        body.readerIndex(nul + 1);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION, "startup packet is not valid UTF-8");
        }
    }
}
