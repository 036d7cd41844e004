package dev.pgbranch.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.atomic.LongAdder;

/**
 * Copies every byte read on its channel to the peer channel, with backpressure and paired close.
 *
 * <p>Backpressure: when the peer's outbound buffer passes its high water mark, reading from this channel
 * stops ({@code autoRead=false}) and resumes when the peer's handler sees it writable again. The proxy
 * therefore holds at most about one water mark plus one read per direction, however fast a compute
 * produces a result and however slow the client reads it.
 *
 * <p>Close: when either channel closes (or reads EOF: half-closure is off), the peer is closed after
 * what was already written to it has been flushed.
 *
 * <p>One instance per channel; runs on that channel's event loop, which is also the peer's.
 */
final class SpliceHandler extends ChannelInboundHandlerAdapter {

    private final Channel peer;
    private final LongAdder bytes;

    SpliceHandler(Channel peer, LongAdder bytes) {
        this.peer = peer;
        this.bytes = bytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (!peer.isActive()) {
            ctx.close();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            bytes.add(buf.readableBytes());
        }
        peer.write(msg, peer.voidPromise());
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            peer.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeAfterFlush(peer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Connection resets and TLS failures end the session; the peer follows via channelInactive.
        ctx.close();
    }

    static void closeAfterFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }
}
