package dev.pgbranch.proxy.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Real BPF sk_lookup steering in this network namespace, between two listeners of this JVM: the
 * "front" stands for the proxy's branch port, the "target" for a postmaster's socket. Needs root,
 * like the server's hand-off (CI runs as root).
 */
@Tag("integration")
class PortSteeringTest {

    private static final long SELF = ProcessHandle.current().pid();

    @org.junit.jupiter.api.BeforeAll
    static void needsRoot() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                ((Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid")) == 0,
                "BPF sk_lookup needs root (CI runs as root)");
    }

    /** An IPv4 listener on 127.0.0.1, like a postmaster's ({@code new ServerSocket()} would be dual-stack IPv6). */
    private static ServerSocket listener() throws IOException {
        ServerSocket s = ServerSocketChannel.open(StandardProtocolFamily.INET).socket();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        s.setSoTimeout(5_000);
        return s;
    }

    /** Which listener accepts a new connection to the front port; the accepted socket's local port too. */
    private static String accepting(ServerSocket front, ServerSocket target) throws IOException {
        try (Socket client = new Socket("127.0.0.1", front.getLocalPort())) {
            client.getOutputStream().write(1);
            ServerSocket first = target.isClosed() ? front : target;
            first.setSoTimeout(300);
            try (Socket accepted = first.accept()) {
                return (first == target ? "target" : "front") + ":" + accepted.getLocalPort();
            } catch (java.net.SocketTimeoutException e) {
                try (Socket accepted = front.accept()) {
                    return "front:" + accepted.getLocalPort();
                }
            }
        }
    }

    @Test
    void theProbeSucceedsAsRoot() throws Exception {
        PortSteering.probe();
    }

    @Test
    void aSteeredPortIsAcceptedByTheTargetSocketUntilTheSteeringCloses() throws Exception {
        try (ServerSocket front = listener(); ServerSocket target = listener()) {
            assertEquals("front:" + front.getLocalPort(), accepting(front, target));
            try (PortSteering.Steering steering = PortSteering.steer(front.getLocalPort(), SELF, target.getLocalPort())) {
                assertEquals(front.getLocalPort(), steering.port());
                // The connection keeps the address the client dialled.
                assertEquals("target:" + front.getLocalPort(), accepting(front, target));
            }
            assertEquals("front:" + front.getLocalPort(), accepting(front, target));
        }
    }

    @Test
    void whenTheTargetSocketClosesTheFrontListenerTakesTheConnectionsAgain() throws Exception {
        try (ServerSocket front = listener()) {
            ServerSocket target = listener();
            try (PortSteering.Steering _ = PortSteering.steer(front.getLocalPort(), SELF, target.getLocalPort())) {
                assertEquals("target:" + front.getLocalPort(), accepting(front, target));
                target.close(); // the postmaster exits
                assertEquals("front:" + front.getLocalPort(), accepting(front, target));
            }
        }
    }

    @Test
    void aProcessWithoutThatListenerIsNoListener() throws Exception {
        int unused;
        try (ServerSocket other = listener()) {
            unused = other.getLocalPort();
        }
        try (ServerSocket front = listener()) {
            HandoffException e = assertThrows(HandoffException.class,
                    () -> PortSteering.steer(front.getLocalPort(), SELF, unused));
            assertEquals(HandoffException.Reason.NO_LISTENER, e.reason());
        }
    }
}
