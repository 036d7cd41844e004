package dev.pgbranch.proxy;

import java.net.InetSocketAddress;
import java.util.Optional;
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
     * The name the proxy tracks the compute of what a client named by: the same name for a plain
     * branch, or a canonical one when several spellings reach one compute (a point in time given
     * as a time or as the LSN it resolves to). {@link #wake} and {@link #suspend} receive this
     * name, and connections with equal names share one compute. Empty if no such branch exists
     * (FATAL 3D000); a {@link ComputeStartException} refuses the name with its own SQLSTATE.
     * May block. The default resolves every name that {@link #exists} to itself.
     */
    default Optional<String> resolve(String name) {
        return exists(name) ? Optional.of(name) : Optional.empty();
    }

    /**
     * Starts the branch's compute if it is not running and completes with the address it listens on
     * once it accepts connections. Fails with {@link ComputeStartException} (its reason reaches the
     * client as FATAL with its SQLSTATE, 08006 by default). The proxy applies its own deadline
     * (FATAL 57P03) and calls this at most once at a time per branch.
     */
    CompletableFuture<InetSocketAddress> wake(String branch);

    /** Stops the branch's compute; called after the idle timeout passed with no client connection. */
    void suspend(String branch);
}
