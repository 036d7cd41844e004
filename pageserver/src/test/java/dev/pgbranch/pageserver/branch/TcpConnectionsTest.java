package dev.pgbranch.pageserver.branch;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpConnectionsTest {

    private static int established(int port) throws Exception {
        return TcpConnections.establishedByLocalPort(TcpConnections.PROC_NET_TCP).getOrDefault(port, 0);
    }

    @Test
    void aLoopbackConnectionCountsOnTheListeningPortWhileItIsOpen() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket listener = new ServerSocket(0, 4, loopback)) {
            int port = listener.getLocalPort();
            assertEquals(0, established(port), "listening is not a connection");
            try (Socket first = new Socket(loopback, port); Socket a = listener.accept();
                 Socket second = new Socket(loopback, port); Socket b = listener.accept()) {
                assertTrue(first.isConnected() && second.isConnected() && a.isConnected() && b.isConnected());
                assertEquals(2, established(port));
            }
            assertEquals(0, established(port), "closed connections are not established any more");
        }
    }

    @Test
    void onlyEstablishedSocketsAreCountedAndOddLinesAreSkipped() {
        List<String> table = List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 1",
                "   1: 0100007F:1538 0100007F:C350 01 00000000:00000000 00:00000000 00000000   108        0 2",
                "   2: 0100007F:1538 0100007F:C351 01 00000000:00000000 00:00000000 00000000   108        0 3",
                "   3: 0100007F:1538 0100007F:C352 06 00000000:00000000 03:00000000 00000000     0        0 0",
                "   4: 0100007F:C350 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 4",
                "   5: garbage",
                "   6: 0100007F:ZZZZ 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 5",
                "   7: 0000000000000000FFFF00000100007F:1538 0000000000000000FFFF00000100007F:C353 01 00000000:00000000 "
                        + "00:00000000 00000000     0        0 6");
        assertEquals(Map.of(0x1538, 3, 0xC350, 1), TcpConnections.parse(table), "IPv4 and IPv6 lines alike");
    }
}
