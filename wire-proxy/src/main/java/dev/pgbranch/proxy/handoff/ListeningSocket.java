package dev.pgbranch.proxy.handoff;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds, through procfs, which file descriptor of a process is its TCP socket listening on
 * 127.0.0.1:{@code port}, and duplicates it into this process with {@code pidfd_getfd(2)}.
 *
 * <pre>
 * /proc/net/tcp:    sl local_address rem_address st ... uid timeout inode
 *                   0: 0100007F:1F90 00000000:0000 0A ...             12345   (0A = LISTEN)
 * /proc/PID/fd/N -> socket:[12345]
 * </pre>
 *
 * Stateless; thread-safe.
 */
final class ListeningSocket {

    private static final String LOOPBACK_HEX = "0100007F";
    private static final String LISTEN = "0A";

    private ListeningSocket() {
    }

    /**
     * A descriptor, owned by the caller, of the socket {@code pid} listens with on 127.0.0.1:{@code port}.
     *
     * @throws HandoffException NO_LISTENER if there is none, NOT_PERMITTED if the process may not be inspected
     */
    static int duplicate(long pid, int port) throws HandoffException {
        int fd = descriptorOf(pid, inodeOf(port), port);
        int pidfd = Syscalls.pidfdOpen(pid);
        try {
            return Syscalls.pidfdGetfd(pidfd, fd);
        } finally {
            Syscalls.close(pidfd);
        }
    }

    private static long inodeOf(int port) throws HandoffException {
        String local = LOOPBACK_HEX + ":" + String.format("%04X", port);
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/tcp"));
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).strip().split("\\s+");
                if (f.length > 9 && f[1].equals(local) && f[3].equals(LISTEN)) {
                    return Long.parseLong(f[9]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw new HandoffException(HandoffException.Reason.UNSUPPORTED, "cannot read /proc/net/tcp: " + e, e);
        }
        throw new HandoffException(HandoffException.Reason.NO_LISTENER, "nothing listens on 127.0.0.1:" + port);
    }

    private static int descriptorOf(long pid, long inode, int port) throws HandoffException {
        String target = "socket:[" + inode + "]";
        Path fds = Path.of("/proc", Long.toString(pid), "fd");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
            for (Path entry : entries) {
                try {
                    if (Files.readSymbolicLink(entry).toString().equals(target)) {
                        return Integer.parseInt(entry.getFileName().toString());
                    }
                } catch (IOException e) {
                    // Closed while we looked: not the listener.
                }
            }
        } catch (java.nio.file.AccessDeniedException e) {
            throw new HandoffException(HandoffException.Reason.NOT_PERMITTED, "cannot inspect the descriptors of pid " + pid, e);
        } catch (IOException e) {
            throw new HandoffException(HandoffException.Reason.NO_LISTENER, "cannot list the descriptors of pid " + pid
                    + " (" + e.getMessage() + ")", e);
        }
        throw new HandoffException(HandoffException.Reason.NO_LISTENER, "pid " + pid + " does not hold the socket "
                + "listening on 127.0.0.1:" + port);
    }
}
