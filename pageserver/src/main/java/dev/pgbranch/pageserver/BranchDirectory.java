package dev.pgbranch.pageserver;

import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.ErrorCode;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.ClientEndpoints;
import dev.pgbranch.pageserver.branch.RoutingName;
import dev.pgbranch.pageserver.timetravel.TimeTravel;
import dev.pgbranch.pageserver.timetravel.TimeTravelException;
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
 * <p>A name with a point in time ({@code dev/alex@2026-11-20T10:00:00Z}, routing port only: a
 * branch's own port serves the branch itself) is time travel: {@link #resolve} turns it into the
 * key of a {@link TimeTravel} compute, which {@link #wake} starts and {@link #suspend} removes.
 * Refusals reach the client as FATAL with a SQLSTATE: 22007 for a point that cannot be read,
 * 22023 for one that names no state that can be shown, 53300 past the limit of time-travel
 * computes, 3D000 for an unknown branch.
 *
 * <p>Thread-safe: it holds no state of its own; the branch service serializes operations per
 * branch, and the proxy calls {@link #wake} and {@link #suspend} off its event loops, at most one
 * at a time per name. {@link #close} removes the time-travel computes.
 */
final class BranchDirectory implements ComputeDirectory, ClientEndpoints, AutoCloseable {

    /** SQLSTATE data_corrupted: what a client of a quarantined branch is told. */
    static final String DATA_CORRUPTED = "XX001";

    private final BranchService branches;
    private final TimeTravel timeTravel;
    private final PgProxy proxy;

    /** Creates the proxy over this directory; {@link #proxy()} starts nothing. */
    BranchDirectory(BranchService branches, ProxyConfig config, TimeTravel timeTravel) {
        this.branches = branches;
        this.timeTravel = timeTravel;
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

    @Override
    public Optional<String> resolve(String name) {
        Optional<RoutingName.Target> target;
        try {
            target = RoutingName.parseTarget(name);
        } catch (BranchException e) {
            throw new ComputeStartException(TimeTravelException.INVALID_DATETIME_FORMAT, e.getMessage(), e);
        }
        if (target.isEmpty()) {
            return Optional.empty();
        }
        if (!target.get().timeTravel()) {
            return exists(name) ? Optional.of(name) : Optional.empty();
        }
        try {
            return timeTravel.resolve(target.get());
        } catch (TimeTravelException e) {
            throw new ComputeStartException(e.sqlState(), e.getMessage(), e);
        }
    }

    /** Blocks while the compute starts (the proxy calls it on a virtual thread) and completes at once. */
    @Override
    public CompletableFuture<InetSocketAddress> wake(String branch) {
        if (TimeTravel.isKey(branch)) {
            try {
                return CompletableFuture.completedFuture(timeTravel.wake(branch));
            } catch (TimeTravelException e) {
                return CompletableFuture.failedFuture(new ComputeStartException(e.sqlState(), e.getMessage(), e));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(internal(e));
            }
        }
        Optional<RoutingName> name = RoutingName.parse(branch);
        if (name.isEmpty()) {
            return CompletableFuture.failedFuture(new ComputeStartException("\"" + branch + "\" is not a branch name"));
        }
        try {
            return CompletableFuture.completedFuture(branches.wake(name.get().project(), name.get().branch().value()));
        } catch (BranchException e) {
            // Logged by the proxy with the branch; the message already says what failed and why.
            return CompletableFuture.failedFuture(e.code() == ErrorCode.QUARANTINED
                    ? new ComputeStartException(DATA_CORRUPTED, e.getMessage(), e)
                    : new ComputeStartException(e.getMessage(), e));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(internal(e));
        }
    }

    private static ComputeStartException internal(RuntimeException e) {
        return new ComputeStartException("internal error of the pgbranch server (" + e + "); see its log", e);
    }

    @Override
    public void suspend(String branch) {
        if (TimeTravel.isKey(branch)) {
            timeTravel.remove(branch);
            return;
        }
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
    public void computeStarted(String routingName, long pid, int computePort) {
        proxy.handOff(routingName, pid, computePort);
    }

    @Override
    public void computeStopping(String routingName) {
        proxy.takeBack(routingName);
    }

    @Override
    public int routingPort() {
        return proxy.routingPort();
    }

    /** Removes every time-travel compute (the proxy is closed first, so none is woken meanwhile). */
    @Override
    public void close() {
        timeTravel.close();
    }
}
