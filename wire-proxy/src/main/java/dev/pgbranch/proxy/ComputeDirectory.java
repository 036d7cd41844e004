package dev.pgbranch.proxy;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * Where the proxy learns about branches and their computes. Implemented by the pageserver (in
 * process, or over its HTTP API when the proxy runs apart).
 *
 * <p>Thread-safety: implementations must be thread-safe. The proxy never calls them on a Netty event
 * loop, so they may block; it does not coalesce {@link #suspend} with {@link #wake} beyond never
 * calling both for one branch at the same time.
 */
public interface ComputeDirectory {

    /** Whether {@code branch} exists (whatever the state of its compute). */
    boolean exists(String branch);

    /**
     * Starts the branch's compute if it is not running and completes with the address it listens on
     * once it accepts connections. Fails with {@link ComputeStartException} (its reason reaches the
     * client as FATAL 08006). The proxy applies its own deadline (FATAL 57P03) and calls this at most
     * once at a time per branch.
     */
    CompletableFuture<InetSocketAddress> wake(String branch);

    /** Stops the branch's compute; called after the idle timeout passed with no client connection. */
    void suspend(String branch);
}
