package dev.pgbranch.pageserver.branch;

import java.io.IOException;

/**
 * Where clients reach branches: one stable port per branch and one routing port that picks the
 * branch from the connection. In a server this is the wire proxy; {@link #NONE} (no listener at
 * all) serves tests of the branch lifecycle alone.
 *
 * <p>Branches are named by their {@link RoutingName} text ({@code dev/alex} in the default
 * project, {@code project:dev/alex} elsewhere).
 *
 * <p>Implementations must be thread-safe.
 */
public interface ClientEndpoints {

    /** Nothing listens: connection strings name ports that are not served. */
    ClientEndpoints NONE = new ClientEndpoints() {
        @Override
        public void openBranchPort(String routingName, int port) {
        }

        @Override
        public void closeBranchPort(String routingName) {
        }

        @Override
        public int routingPort() {
            return 0;
        }
    };

    /**
     * Starts accepting client connections for the branch on {@code port} of 127.0.0.1.
     *
     * @throws IOException if the port cannot be bound (something else listens on it)
     */
    void openBranchPort(String routingName, int port) throws IOException;

    /** Stops accepting new connections on the branch's port; no-op if it has none. */
    void closeBranchPort(String routingName);

    /**
     * The branch's compute started: process {@code pid} listens on 127.0.0.1:{@code computePort}.
     * The proxy then hands the branch's port to it where the kernel allows (new connections reach
     * the postmaster directly). Must not throw; the default does nothing.
     */
    default void computeStarted(String routingName, long pid, int computePort) {
    }

    /** The branch's compute is about to stop: new connections to its port go to the proxy again. */
    default void computeStopping(String routingName) {
    }

    /** The port where the branch is named in the connection, or 0 if there is none. */
    int routingPort();
}
