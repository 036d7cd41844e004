package dev.pgbranch.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The Postgres wire proxy: listens on one routing port and on one stable port per branch, terminates
 * TLS, routes each session to its branch's compute (waking it if suspended), splices bytes with
 * backpressure, maps cancel keys, and suspends computes left without clients. Authentication is the
 * compute's own: the proxy passes the SCRAM exchange through and never sees a password.
 *
 * <p>Threading: one Netty event loop group of two threads (epoll, or NIO where epoll is unavailable) serves every listener and connection; a
 * session and its compute connection share one loop. {@link ComputeDirectory} calls run on virtual
 * threads. All public methods are thread-safe.
 *
 * <p>Crash behaviour: the proxy holds no durable state. If it dies, clients see their connections drop
 * and computes see their sessions end; computes keep running until the next proxy suspends them.
 */
public final class PgProxy implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PgProxy.class.getName());
    private static final int EVENT_LOOP_THREADS = 2;

    private final ProxyConfig config;
    private final ComputeDirectory directory;
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final CancelRegistry cancels = new CancelRegistry();
    private final Map<String, Channel> branchPorts = new ConcurrentHashMap<>();
    private EventLoopGroup group;
    private ExecutorService blocking;
    private BranchComputes computes;
    private ProxyServices services;
    private Channel routing;

    public PgProxy(ProxyConfig config, ComputeDirectory directory) {
        this.config = Objects.requireNonNull(config, "config");
        this.directory = Objects.requireNonNull(directory, "directory");
    }

    /** Sets up TLS and binds the routing port. */
    public synchronized PgProxy start() throws IOException {
        if (group != null) {
            throw new IllegalStateException("already started");
        }
        var ssl = TlsContexts.server(config);
        Transport transport = Transport.best();
        group = new MultiThreadIoEventLoopGroup(EVENT_LOOP_THREADS, transport.ioHandlerFactory());
        blocking = Executors.newVirtualThreadPerTaskExecutor();
        computes = new BranchComputes(directory, blocking, group, config.idleTimeout(), metrics);
        services = new ProxyServices(config, computes, cancels, metrics, ssl, transport);
        group.scheduleAtFixedRate(cancels::sweep, 30, 30, TimeUnit.SECONDS);
        try {
            routing = bind(config.routingPort(), null);
        } catch (IOException e) {
            close();
            throw e;
        }
        LOG.log(Level.INFO, "proxy listening on {0}:{1} ({2})", config.bindHost(), String.valueOf(routingPort()),
                transport.name());
        return this;
    }

    /**
     * Opens the stable port of {@code branch} (0 picks a free port) and returns the port bound.
     * A branch has at most one port; opening it again closes the previous one first.
     */
    public synchronized int openBranchPort(String branch, int port) throws IOException {
        Objects.requireNonNull(branch, "branch");
        requireStarted();
        closeBranchPort(branch);
        Channel channel = bind(port, branch);
        branchPorts.put(branch, channel);
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Stops listening on the branch's port; sessions already open on it continue. No-op if none. */
    public synchronized void closeBranchPort(String branch) {
        Channel channel = branchPorts.remove(branch);
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
    }

    public synchronized int routingPort() {
        requireStarted();
        return ((InetSocketAddress) routing.localAddress()).getPort();
    }

    /** Counters in the Prometheus text exposition format. */
    public String metrics() {
        return metrics.render();
    }

    /** Closes every listener and connection. Computes are left as they are. Idempotent. */
    @Override
    public synchronized void close() {
        if (group == null) {
            return;
        }
        branchPorts.values().forEach(Channel::close);
        branchPorts.clear();
        if (routing != null) {
            routing.close();
        }
        computes.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        blocking.shutdownNow();
        group = null;
    }

    ProxyMetrics metricsForTest() {
        return metrics;
    }

    CancelRegistry cancelsForTest() {
        return cancels;
    }

    private Channel bind(int port, String branch) throws IOException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(services.transport().serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("decoder", new StartupDecoder());
                        ch.pipeline().addLast("encoder", PgMessageEncoder.INSTANCE);
                        ch.pipeline().addLast("session", new ClientSession(services, branch));
                    }
                });
        var future = bootstrap.bind(config.bindHost(), port).awaitUninterruptibly();
        if (!future.isSuccess()) {
            throw new IOException("cannot listen on " + config.bindHost() + ":" + port
                    + (branch == null ? "" : " for branch " + branch) + ": " + future.cause().getMessage(), future.cause());
        }
        return future.channel();
    }

    private void requireStarted() {
        if (group == null) {
            throw new IllegalStateException("proxy not started");
        }
    }
}
