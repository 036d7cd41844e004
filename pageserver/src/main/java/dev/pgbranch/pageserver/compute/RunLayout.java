package dev.pgbranch.pageserver.compute;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where a compute's files live, outside its (versioned) data directory:
 *
 * <pre>
 * runDirectory/                  0700; 0711 when computes run as another user (traversable, never listable)
 *   mnt/&lt;name&gt;/                  FUSE mount point = the compute's data directory (mnt/ as runDirectory, mount
 *                                point 0700)
 *   sock/&lt;hash&gt;/                 unix_socket_directories, owned by the compute user, 0700 (sock/ as runDirectory)
 *   log/&lt;name&gt;.log               the postmaster's stderr (appended across restarts), 0600 in a 0700 log/
 *   pids/&lt;name&gt;.pid              {@link PidRecord}: what to kill after a crash of the server, 0600 in 0700
 *   tmp/                         initdb password files (0600, deleted after use), tmp/ as runDirectory
 *
 * &lt;name&gt; = key with every char outside [A-Za-z0-9._-] replaced by '_', cut to 48 chars,
 *          + '-' + 8 hex digits of SHA-256(key)   (distinct keys never share files)
 * &lt;hash&gt; = 12 hex digits of SHA-256(key)         (socket paths are limited to 107 bytes)
 * </pre>
 *
 * <p>Thread-safety: immutable.
 */
final class RunLayout {

    /** sun_path is 108 bytes including the NUL; Postgres appends "/.s.PGSQL.NNNNN". */
    private static final int MAX_SOCKET_PATH = 107;

    private final Path root;

    RunLayout(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    /**
     * Creates the directories with explicit modes (whatever the umask).
     *
     * @param traversable whether the compute user is another user, who must traverse to the
     *     mounts, sockets and password files
     */
    void create(boolean traversable) throws IOException {
        for (Path directory : new Path[] {root, mounts(), root.resolve("sock"), root.resolve("log"), pids(), tmp()}) {
            Files.createDirectories(directory);
        }
        String way = traversable ? "rwx--x--x" : "rwx------";
        for (Path directory : new Path[] {root, mounts(), root.resolve("sock"), tmp()}) {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString(way));
        }
        for (Path directory : new Path[] {root.resolve("log"), pids()}) {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        }
    }

    Path mounts() {
        return root.resolve("mnt");
    }

    Path pids() {
        return root.resolve("pids");
    }

    Path tmp() {
        return root.resolve("tmp");
    }

    Path mountpoint(String key) {
        return mounts().resolve(name(key));
    }

    Path socketDirectory(String key) {
        return root.resolve("sock").resolve(digest(key).substring(0, 12));
    }

    Path logFile(String key) {
        return root.resolve("log").resolve(name(key) + ".log");
    }

    Path pidRecord(String key) {
        return pids().resolve(name(key) + ".pid");
    }

    /** Refuses keys that cannot name a compute, and run directories too deep for a socket path. */
    void validate(String key, int port) throws ComputeException {
        if (key == null || key.isBlank() || key.length() > 200 || key.chars().anyMatch(c -> c < 0x20)) {
            throw new ComputeException("invalid compute key: " + (key == null ? "null" : "'" + key + "'"));
        }
        if (port < 1 || port > 65535) {
            throw new ComputeException("invalid port " + port);
        }
        String socket = socketDirectory(key) + "/.s.PGSQL." + port;
        if (socket.getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new ComputeException("run directory " + root + " is too deep for a Unix socket path ("
                    + socket.length() + " > " + MAX_SOCKET_PATH + " bytes); choose a shorter data directory");
        }
    }

    static String name(String key) {
        StringBuilder safe = new StringBuilder();
        for (int i = 0; i < key.length() && safe.length() < 48; i++) {
            char c = key.charAt(i);
            boolean plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '.' || c == '_' || c == '-';
            safe.append(plain ? c : '_');
        }
        if (safe.charAt(0) == '.') {
            safe.setCharAt(0, '_'); // never "." or ".." or a hidden name
        }
        return safe + "-" + digest(key).substring(0, 8);
    }

    private static String digest(String key) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }
}
