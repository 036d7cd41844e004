package dev.pgbranch.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.util.Map;

/**
 * Encodes {@link PgMessage}s in the formats drawn there: proxy-generated answers to clients
 * (ErrorResponse, NegotiateProtocolVersion, BackendKeyData, {@code 'S'}/{@code 'N'}) and the startup
 * packets the proxy sends to computes (StartupMessage, CancelRequest). Other outbound objects
 * (spliced {@link ByteBuf}s) pass through untouched.
 *
 * <p>Stateless and {@link ChannelHandler.Sharable}.
 */
@ChannelHandler.Sharable
final class PgMessageEncoder extends MessageToByteEncoder<PgMessage> {

    static final PgMessageEncoder INSTANCE = new PgMessageEncoder();

    private PgMessageEncoder() {
        super(PgMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, PgMessage msg, ByteBuf out) {
        encode(msg, out);
    }

    /** Writes {@code msg} to {@code out}; also used directly where no pipeline is involved. */
    static void encode(PgMessage msg, ByteBuf out) {
        switch (msg) {
            case PgMessage.EncryptionResponse r -> out.writeByte(r.answer());
            case PgMessage.ErrorResponse e -> {
                int start = typed(out, 'E');
                field(out, 'S', "FATAL");
                field(out, 'V', "FATAL");
                field(out, 'C', e.sqlState());
                field(out, 'M', e.message());
                if (e.detail() != null) {
                    field(out, 'D', e.detail());
                }
                out.writeByte(0);
                finish(out, start);
            }
            case PgMessage.NegotiateProtocolVersion v -> {
                int start = typed(out, 'v');
                out.writeInt(v.newestMinorSupported());
                out.writeInt(v.unsupportedOptions().size());
                v.unsupportedOptions().forEach(o -> cstring(out, o));
                finish(out, start);
            }
            case PgMessage.BackendKeyData k -> {
                out.writeByte('K').writeInt(12).writeInt(k.processId()).writeInt(k.secret());
            }
            case PgMessage.StartupMessage s -> {
                int start = out.writerIndex();
                out.writeInt(0).writeInt(s.majorVersion() << 16 | s.minorVersion());
                for (Map.Entry<String, String> p : s.parameters().entrySet()) {
                    cstring(out, p.getKey());
                    cstring(out, p.getValue());
                }
                out.writeByte(0);
                out.setInt(start, out.writerIndex() - start);
            }
            case PgMessage.CancelRequest c -> {
                byte[] secret = c.secret();
                out.writeInt(12 + secret.length).writeInt(PgMessage.CANCEL_REQUEST_CODE).writeInt(c.processId()).writeBytes(secret);
            }
            case PgMessage.SslRequest _ -> out.writeInt(8).writeInt(PgMessage.SSL_REQUEST_CODE);
            case PgMessage.GssEncRequest _ -> out.writeInt(8).writeInt(PgMessage.GSSENC_REQUEST_CODE);
        }
    }

    private static int typed(ByteBuf out, char type) {
        out.writeByte(type);
        int start = out.writerIndex();
        out.writeInt(0);
        return start;
    }

    private static void finish(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    private static void field(ByteBuf out, char code, String value) {
        out.writeByte(code);
        cstring(out, value);
    }

    private static void cstring(ByteBuf out, String s) {
        // A NUL inside a value would end the string early on the wire; Postgres never sends one either.
        ByteBufUtil.writeUtf8(out, s.replace('\0', '?'));
        out.writeByte(0);
    }
}
