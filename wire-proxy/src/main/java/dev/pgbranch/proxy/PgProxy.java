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
import dev.pgbranch.proxy.handoff.HandoffException;
import dev.pgbranch.proxy.handoff.PortSteering;

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
 * <p>Kernel hand-off ({@link #handOff}): while a branch's compute runs, new connections to the
 * branch's stable port can be delivered by the kernel to the postmaster's own listening socket
 * ({@link PortSteering}, BPF {@code sk_lookup}); the proxy's listener keeps the port and takes the
 * connections whenever nothing steers them (compute suspended, exited, or hand-off unavailable,
 * which is logged once with the reason). Handed-off sessions never pass through the proxy: their
 * TLS, cancel keys and idleness are the compute's (the proxy does not suspend a handed-off branch;
 * the server's idle sweep counts its TCP connections).
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
    private final Map<String, PortSteering.Steering> steered = new ConcurrentHashMap<>();
    /** Why the kernel hand-off cannot be used here, or null when it can; decided at start. */
    private String handoffUnavailable;
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
        handoffUnavailable = probeHandoff(config);
        computes = new BranchComputes(directory, blocking, group, config.idleTimeout(), metrics, steered::containsKey);
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

    /**
     * Hands the branch's port to its running compute: from now on the kernel delivers new
     * connections to that port to the socket process {@code postmasterPid} listens with on
     * 127.0.0.1:{@code computePort}. Replaces an earlier hand-off of the branch. Returns false, and
     * the proxy goes on relaying the port, when the hand-off is unavailable (logged once, with the
     * reason), disabled, or fails for this compute (logged).
     */
    public synchronized boolean handOff(String branch, long postmasterPid, int computePort) {
        requireStarted();
        takeBack(branch);
        Channel channel = branchPorts.get(branch);
        if (channel == null || handoffUnavailable != null) {
            return false;
        }
        int port = ((InetSocketAddress) channel.localAddress()).getPort();
        try {
            steered.put(branch, PortSteering.steer(port, postmasterPid, computePort));
            metrics.handoff(true);
            LOG.log(Level.DEBUG, "branch {0}: port {1,number,#} handed to the compute (pid {2,number,#}, port {3,number,#})",
                    branch, port, postmasterPid, computePort);
            return true;
        } catch (HandoffException e) {
            metrics.handoff(false);
            LOG.log(Level.WARNING, "branch {0}: port {1,number,#} is relayed by the proxy: the kernel hand-off to its "
                    + "compute failed ({2}: {3})", branch, port, e.reason(), e.getMessage());
            return false;
        }
    }

    /** New connections to the branch's port go to the proxy again (its compute stopped). No-op if not handed off. */
    public synchronized void takeBack(String branch) {
        PortSteering.Steering steering = steered.remove(branch);
        if (steering != null) {
            steering.close();
            computes.stopped(branch);
        }
    }

    /** Whether new connections to the branch's port currently go straight to its compute. */
    public boolean handedOff(String branch) {
        return steered.containsKey(branch);
    }

    /** Stops listening on the branch's port; sessions already open on it continue. No-op if none. */
    public synchronized void closeBranchPort(String branch) {
        takeBack(branch);
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
        steered.values().forEach(PortSteering.Steering::close);
        steered.clear();
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

    private static String probeHandoff(ProxyConfig config) {
        if (!config.kernelHandoff()) {
            return "disabled by configuration";
        }
        try {
            PortSteering.probe();
            LOG.log(Level.INFO, "kernel hand-off available: branch ports of running computes are served by the "
                    + "computes' own sockets (BPF sk_lookup)");
            return null;
        } catch (HandoffException e) {
            LOG.log(Level.WARNING, "kernel hand-off unavailable ({0}: {1}): every branch port is relayed by the proxy"
                    + (e.reason() == HandoffException.Reason.NOT_PERMITTED ? "; run the server as root to enable it" : ""),
                    e.reason(), e.getMessage());
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            LOG.log(Level.WARNING, "kernel hand-off unavailable ({0}): every branch port is relayed by the proxy", e.toString());
            return e.toString();
        }
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
