package dev.pgbranch.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Relays a compute's messages to the client until the first ReadyForQuery, registering the compute's
 * BackendKeyData and, on the routing port, replacing its secret (the pid stays the backend's own;
 * {@link CancelRegistry}). Then it puts a
 * {@link SpliceHandler} in its place; bytes it had buffered past ReadyForQuery flow on to it.
 *
 * <p>Reads typed backend messages ({@code byte type, int32 length incl. itself, body}); a length below
 * 4 or above {@value #MAX_STARTUP_MESSAGE} bytes during startup means the peer is not a Postgres
 * server, and both connections are closed.
 *
 * <p>Not sharable; runs on the compute channel's event loop (the client's too).
 */
final class ComputeStartupHandler extends ByteToMessageDecoder {

    static final int MAX_STARTUP_MESSAGE = 1 << 20;

    private final Channel client;
    private final InetSocketAddress compute;
    private final String branch;
    private final CancelRegistry cancels;
    private final ProxyMetrics.Branch metrics;
    private final boolean keepCancelKey;

    /** @param keepCancelKey pass the compute's own cancel key through (branch ports; see {@link CancelRegistry#register}) */
    ComputeStartupHandler(Channel client, InetSocketAddress compute, String branch, CancelRegistry cancels,
                          ProxyMetrics.Branch metrics, boolean keepCancelKey) {
        this.keepCancelKey = keepCancelKey;
        this.client = client;
        this.compute = compute;
        this.branch = branch;
        this.cancels = cancels;
        this.metrics = metrics;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 5) {
            int start = in.readerIndex();
            byte type = in.getByte(start);
            int length = in.getInt(start + 1);
            if (length < 4 || length > MAX_STARTUP_MESSAGE) {
                throw new ProtocolException(SqlStates.PROTOCOL_VIOLATION, "compute sent a message of length " + length);
            }
            if (in.readableBytes() < 1 + length) {
                return;
            }
            metrics.bytesFromCompute.add(1 + length);
            if (type == 'K' && length == 12) {
                in.skipBytes(5);
                int pid = in.readInt();
                int secret = in.readInt();
                client.write(cancels.register(new CancelRegistry.Target(compute, pid, secret, branch, client),
                        keepCancelKey), client.voidPromise());
                continue;
            }
            client.write(in.readRetainedSlice(1 + length), client.voidPromise());
            if (type == 'Z') {
                client.flush();
                // Removal is deferred until decode returns; the rest of the buffer then goes to the splice.
                ctx.pipeline().addAfter(ctx.name(), "splice", new SpliceHandler(client, metrics.bytesFromCompute));
                ctx.pipeline().remove(this);
                return;
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        client.flush();
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // Authentication failures end here: the compute sent its ErrorResponse and closed.
        SpliceHandler.closeAfterFlush(client);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
