package dev.pgbranch.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLSession;

/**
 * The startup phase of one client connection, from the first packet until the session is spliced to
 * its compute.
 *
 * <pre>
 *   AWAIT_STARTUP --SSLRequest--&gt; 'S', TLS handshake --&gt; AWAIT_STARTUP (encrypted)
 *   AWAIT_STARTUP --GSSENCRequest--&gt; 'N' --&gt; AWAIT_STARTUP
 *   AWAIT_STARTUP --CancelRequest--&gt; forward to the compute with its real key, close (no answer)
 *   AWAIT_STARTUP --StartupMessage--&gt; ROUTING: route, resolve (exists?), wake (deadline), connect (retries)
 *   ROUTING --compute connected--&gt; startup forwarded; client spliced; compute relayed by
 *                                   {@link ComputeStartupHandler} until ReadyForQuery
 *   any failure --&gt; FATAL ErrorResponse with a SQLSTATE, close
 * </pre>
 *
 * <p>While routing, the client channel does not read (autoRead off) so nothing is buffered beyond the
 * decoder's leftovers, which are handed to the splice when the decoder is removed.
 *
 * <p>Not sharable; all state is touched only on the client channel's event loop (completions of the
 * directory's futures hop back onto it).
 */
final class ClientSession extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(ClientSession.class.getName());

    private final ProxyServices services;
    private final String portBranch;
    private ChannelHandlerContext ctx;
    private boolean encrypted;
    private boolean gssRefused;
    private boolean startupReceived;
    private boolean done;
    private boolean spliced;
    private String branch;
    private ScheduledFuture<?> startupTimer;
    private ScheduledFuture<?> wakeTimer;

    ClientSession(ProxyServices services, String portBranch) {
        this.services = services;
        this.portBranch = portBranch;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        long timeout = services.config().startupTimeout().toNanos();
        startupTimer = ctx.executor().schedule(() -> {
            if (!startupReceived) {
                ctx.close();
            }
        }, timeout, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimers();
        if (branch != null) {
            services.computes().release(branch);
            services.metrics().branch(branch).active.decrementAndGet();
            branch = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (spliced) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        switch (msg) {
            case PgMessage.SslRequest _ -> {
                if (encrypted || services.sslContext() == null) {
                    fail(SqlStates.PROTOCOL_VIOLATION, "unexpected SSLRequest: the connection is already encrypted");
                    return;
                }
                // 'S' must leave unencrypted: write it before the SslHandler sits in the pipeline.
                ctx.writeAndFlush(PgMessage.EncryptionResponse.ACCEPT);
                ctx.pipeline().addFirst("tls", services.sslContext().newHandler(ctx.alloc()));
                encrypted = true;
            }
            case PgMessage.GssEncRequest _ -> {
                if (encrypted || gssRefused) {
                    fail(SqlStates.PROTOCOL_VIOLATION, "unexpected GSSENCRequest");
                    return;
                }
                gssRefused = true;
                ctx.writeAndFlush(PgMessage.EncryptionResponse.REFUSE);
            }
            case PgMessage.CancelRequest cancel -> {
                done = true;
                forwardCancel(cancel);
                ctx.close();
            }
            case PgMessage.StartupMessage startup -> {
                startupReceived = true;
                ctx.channel().config().setAutoRead(false);
                route(startup);
            }
            default -> {
                ReferenceCountUtil.release(msg);
                fail(SqlStates.PROTOCOL_VIOLATION, "unexpected data before startup");
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
            services.metrics().tlsHandshake();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof ProtocolException p) {
            LOG.log(Level.DEBUG, "protocol violation from {0}: {1}", ctx.channel().remoteAddress(), p.getMessage());
            fail(p.sqlState(), p.getMessage());
        } else {
            // TLS handshake failures and resets: nothing useful can be said to the client.
            LOG.log(Level.DEBUG, "client connection {0} failed: {1}", ctx.channel().remoteAddress(),
                    cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause);
            done = true;
            ctx.close();
        }
    }

    private void route(PgMessage.StartupMessage startup) {
        StartupRouter.Route route;
        try {
            route = StartupRouter.route(startup, portBranch, encrypted ? serverName() : null);
        } catch (StartupRouter.RouteException e) {
            fail(e.error());
            return;
        }
        String target = route.branch();
        EventLoop loop = ctx.channel().eventLoop();
        services.computes().resolve(target).whenComplete((key, failure) -> loop.execute(() -> {
            if (done || !ctx.channel().isActive()) {
                return;
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof ComputeStartException refused) {
                // The directory's verdict on the name (a bad point in time, say): the client's mistake.
                fail(refused.sqlState(), refused.getMessage());
            } else if (cause != null) {
                LOG.log(Level.WARNING, "looking up branch " + target + " failed", cause);
                fail(SqlStates.CONNECTION_FAILURE, "could not look up branch \"" + target + "\": " + reason(cause));
            } else if (key.isEmpty()) {
                fail(SqlStates.INVALID_CATALOG_NAME, "branch \"" + target + "\" does not exist");
            } else {
                wake(route, key.get());
            }
        }));
    }

    /** @param key the name the directory resolved the client's branch to: the compute's identity */
    private void wake(StartupRouter.Route route, String key) {
        branch = key;
        ProxyMetrics.Branch m = services.metrics().branch(key);
        m.connections.increment();
        m.active.incrementAndGet();
        services.computes().acquire(key);
        if (route.negotiation() != null) {
            ctx.write(route.negotiation(), ctx.voidPromise());
        }
        long deadline = services.config().wakeDeadline().toNanos();
        wakeTimer = ctx.executor().schedule(() -> fail(SqlStates.CANNOT_CONNECT_NOW, "the compute of branch \""
                + route.branch() + "\" did not start within " + services.config().wakeDeadline().toMillis()
                + " ms; try again"), deadline, TimeUnit.NANOSECONDS);
        EventLoop loop = ctx.channel().eventLoop();
        services.computes().wake(key).whenComplete((address, failure) -> loop.execute(() -> {
            if (done || !ctx.channel().isActive()) {
                return;
            }
            wakeTimer.cancel(false);
            if (failure != null) {
                Throwable cause = unwrap(failure);
                if (cause instanceof ComputeStartException refused && refused.specific()) {
                    // A refusal the directory chose (a limit, say), not a failure of the compute.
                    LOG.log(Level.INFO, "compute of branch {0} refused: {1}", key, cause.getMessage());
                    fail(refused.sqlState(), refused.getMessage());
                } else {
                    LOG.log(Level.WARNING, "compute of branch {0} failed to start: {1}", key, cause.getMessage());
                    fail(SqlStates.CONNECTION_FAILURE, "could not start the compute of branch \"" + route.branch()
                            + "\": " + reason(cause));
                }
            } else {
                connect(route, key, address, 1);
            }
        }));
    }

    private void connect(StartupRouter.Route route, String key, InetSocketAddress address, int attempt) {
        Channel client = ctx.channel();
        ProxyMetrics.Branch m = services.metrics().branch(key);
        Bootstrap bootstrap = new Bootstrap()
                .group(client.eventLoop())
                .channel(services.transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) services.config().connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("encoder", PgMessageEncoder.INSTANCE);
                        ch.pipeline().addLast("startup", new ComputeStartupHandler(client, address, key,
                                services.cancels(), m, portBranch != null));
                    }
                });
        services.transport().keepAlive(bootstrap);
        bootstrap.connect(address).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                boolean retryable = cause instanceof ConnectException || cause instanceof ConnectTimeoutException;
                if (retryable && attempt < services.config().connectAttempts() && client.isActive() && !done) {
                    long backoffMs = 50L << Math.min(attempt - 1, 5);
                    client.eventLoop().schedule(() -> connect(route, key, address, attempt + 1), backoffMs, TimeUnit.MILLISECONDS);
                    return;
                }
                services.computes().unreachable(key);
                LOG.log(Level.WARNING, "could not connect to the compute of branch {0} at {1} after {2} attempts: {3}",
                        key, address, attempt, cause.getMessage());
                fail(SqlStates.CONNECTION_FAILURE, "could not connect to the compute of branch \"" + route.branch()
                        + "\": " + reason(cause));
                return;
            }
            Channel compute = f.channel();
            if (done || !client.isActive()) {
                compute.close();
                return;
            }
            done = true;
            cancelTimers();
            compute.writeAndFlush(route.forwarded(), compute.voidPromise());
            spliced = true;
            ctx.pipeline().addAfter(ctx.name(), "splice", new SpliceHandler(compute, m.bytesFromClient));
            // This handler stays until the channel closes (it releases the branch) and passes reads on;
            // removing the decoder hands its leftover bytes to the splice.
            ctx.pipeline().remove(StartupDecoder.class);
            client.config().setAutoRead(true);
        });
    }

    private void forwardCancel(PgMessage.CancelRequest cancel) {
        CancelRegistry.Target t = services.cancels().lookup(cancel.processId(), cancel.secret());
        services.metrics().cancel(t != null);
        if (t == null) {
            LOG.log(Level.DEBUG, "cancel request with an unknown key from {0}", ctx.channel().remoteAddress());
            return;
        }
        byte[] secret = {(byte) (t.secret() >>> 24), (byte) (t.secret() >>> 16), (byte) (t.secret() >>> 8), (byte) t.secret()};
        new Bootstrap()
                .group(ctx.channel().eventLoop())
                .channel(services.transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) services.config().connectTimeout().toMillis())
                .handler(PgMessageEncoder.INSTANCE)
                .connect(t.compute())
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        // Postgres answers a cancel with nothing; close once it has the packet.
                        f.channel().writeAndFlush(new PgMessage.CancelRequest(t.processId(), secret))
                                .addListener(ChannelFutureListener.CLOSE);
                    } else {
                        LOG.log(Level.WARNING, "could not forward a cancel request to the compute of branch {0}: {1}",
                                t.branch(), f.cause().getMessage());
                    }
                });
    }

    private String serverName() {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        SSLSession session = ssl.engine().getSession();
        if (session instanceof ExtendedSSLSession extended) {
            List<SNIServerName> names = extended.getRequestedServerNames();
            for (SNIServerName name : names) {
                if (name instanceof SNIHostName host) {
                    return host.getAsciiName();
                }
            }
        }
        return null;
    }

    private void fail(String sqlState, String message) {
        fail(PgMessage.ErrorResponse.fatal(sqlState, message));
    }

    private void fail(PgMessage.ErrorResponse error) {
        if (spliced) {
            return;
        }
        if (!ctx.channel().isActive()) {
            done = true;
            return;
        }
        done = true;
        cancelTimers();
        services.metrics().error(error.sqlState());
        ctx.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
    }

    private void cancelTimers() {
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        if (wakeTimer != null) {
            wakeTimer.cancel(false);
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private static String reason(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
    }
}
