package dev.pgbranch.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import jdk.net.ExtendedSocketOptions;

/**
 * The socket transport of a proxy: native epoll on Linux when its library loads, NIO otherwise
 * (or when the system property {@code pgbranch.proxy.transport=nio} asks for it). Immutable.
 */
record Transport(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannel,
                 Class<? extends SocketChannel> socketChannel) {

    /** Idle seconds before the first keepalive probe, seconds between probes, probes before the peer is dead. */
    static final int KEEPALIVE_IDLE = 60;
    static final int KEEPALIVE_INTERVAL = 10;
    static final int KEEPALIVE_COUNT = 6;

    /**
     * Turns on TCP keepalive toward a compute with short timers (Linux defaults wait two hours), so a
     * compute host that vanishes without a FIN or RST is noticed in about two minutes.
     */
    void keepAlive(Bootstrap bootstrap) {
        bootstrap.option(ChannelOption.SO_KEEPALIVE, true);
        if (socketChannel == EpollSocketChannel.class) {
            bootstrap.option(EpollChannelOption.TCP_KEEPIDLE, KEEPALIVE_IDLE)
                    .option(EpollChannelOption.TCP_KEEPINTVL, KEEPALIVE_INTERVAL)
                    .option(EpollChannelOption.TCP_KEEPCNT, KEEPALIVE_COUNT);
        } else {
            bootstrap.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), KEEPALIVE_IDLE)
                    .option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), KEEPALIVE_INTERVAL)
                    .option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), KEEPALIVE_COUNT);
        }
    }

    static Transport best() {
        if (!"nio".equals(System.getProperty("pgbranch.proxy.transport")) && Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
        }
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }
}
