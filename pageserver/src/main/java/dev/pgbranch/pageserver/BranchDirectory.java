package dev.pgbranch.pageserver;

import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.ClientEndpoints;
import dev.pgbranch.pageserver.branch.RoutingName;
import dev.pgbranch.proxy.ComputeDirectory;
import dev.pgbranch.proxy.ComputeStartException;
import dev.pgbranch.proxy.PgProxy;
import dev.pgbranch.proxy.ProxyConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Joins the in-process wire proxy and the branch service both ways: the proxy learns from it
 * whether a branch exists and has computes started and stopped ({@link ComputeDirectory}), and
 * the branch service opens and closes the branches' stable ports on the proxy through it
 * ({@link ClientEndpoints}). Branches are named as {@link RoutingName}s.
 *
 * <p>Thread-safe: it holds no state of its own; the branch service serializes operations per
 * branch, and the proxy calls {@link #wake} and {@link #suspend} off its event loops, at most one
 * at a time per branch.
 */
final class BranchDirectory implements ComputeDirectory, ClientEndpoints {

    private final BranchService branches;
    private final PgProxy proxy;

    /** Creates the proxy over this directory; {@link #proxy()} starts nothing. */
    BranchDirectory(BranchService branches, ProxyConfig config) {
        this.branches = branches;
        this.proxy = new PgProxy(config, this);
    }

    PgProxy proxy() {
        return proxy;
    }

    @Override
    public boolean exists(String branch) {
        Optional<RoutingName> name = RoutingName.parse(branch);
        return name.isPresent() && branches.exists(name.get().project(), name.get().branch().value());
    }

    /** Blocks while the compute starts (the proxy calls it on a virtual thread) and completes at once. */
    @Override
    public CompletableFuture<InetSocketAddress> wake(String branch) {
        Optional<RoutingName> name = RoutingName.parse(branch);
        if (name.isEmpty()) {
            return CompletableFuture.failedFuture(new ComputeStartException("\"" + branch + "\" is not a branch name"));
        }
        try {
            return CompletableFuture.completedFuture(branches.wake(name.get().project(), name.get().branch().value()));
        } catch (BranchException e) {
            // Logged by the proxy with the branch; the message already says what failed and why.
            return CompletableFuture.failedFuture(new ComputeStartException(e.getMessage(), e));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new ComputeStartException("internal error of the pgbranch server ("
                    + e + "); see its log", e));
        }
    }

    @Override
    public void suspend(String branch) {
        RoutingName.parse(branch).ifPresent(n -> branches.suspend(n.project(), n.branch().value()));
    }

    @Override
    public void openBranchPort(String routingName, int port) throws IOException {
        proxy.openBranchPort(routingName, port);
    }

    @Override
    public void closeBranchPort(String routingName) {
        proxy.closeBranchPort(routingName);
    }

    @Override
    public int routingPort() {
        return proxy.routingPort();
    }
}
