package dev.pgbranch.pageserver.branch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts the established TCP connections of this network namespace by local port, from the
 * kernel's socket tables ({@code /proc/net/tcp} for IPv4 sockets such as those of a compute
 * listening on 127.0.0.1, {@code /proc/net/tcp6} for IPv6 and dual-stack ones such as Java's).
 * This tells how many clients (the proxy's spliced sessions or anyone else) a compute has,
 * without asking Postgres.
 *
 * <pre>
 * /proc/net/tcp (one header line, then one line per socket, fields separated by spaces):
 *   sl  local_address rem_address   st tx_queue:rx_queue ...
 *   0:  0100007F:D0A5 0100007F:9C40 01 00000000:00000000 ...
 *       \ addr (hex, host byte order) : port (hex)      st 01 = ESTABLISHED, 0A = LISTEN
 * /proc/net/tcp6: the same columns, addresses of 32 hex digits.
 * </pre>
 *
 * <p>Stateless; thread-safe. Linux only: elsewhere the file is missing and an
 * {@link IOException} says so.
 */
final class TcpConnections {

    static final List<Path> PROC_NET_TCP = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    private static final String ESTABLISHED = "01";

    private TcpConnections() {
    }

    /**
     * Established connections per local port, summed over {@code tables} (normally
     * {@link #PROC_NET_TCP}); a missing table (no IPv6 in the kernel) counts nothing, but if
     * none exists this is not Linux and the count would be meaningless.
     */
    static Map<Integer, Integer> establishedByLocalPort(List<Path> tables) throws IOException {
        Map<Integer, Integer> counts = new HashMap<>();
        boolean found = false;
        for (Path table : tables) {
            if (Files.exists(table)) {
                found = true;
                parse(Files.readAllLines(table)).forEach((port, n) -> counts.merge(port, n, Integer::sum));
            }
        }
        if (!found) {
            throw new IOException("no kernel socket table at " + tables);
        }
        return counts;
    }

    static Map<Integer, Integer> parse(List<String> lines) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] fields = lines.get(i).strip().split("\\s+");
            if (fields.length < 4 || !fields[3].equals(ESTABLISHED)) {
                continue;
            }
            int colon = fields[1].lastIndexOf(':');
            if (colon < 0) {
                continue;
            }
            try {
                int port = Integer.parseInt(fields[1].substring(colon + 1), 16);
                counts.merge(port, 1, Integer::sum);
            } catch (NumberFormatException e) {
                // A line the kernel would not write; ignore it rather than stop counting.
            }
        }
        return counts;
    }
}
