package dev.pgbranch.pageserver.compute;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * What the server records about a compute it started, so that the next server start can kill
 * it if this one crashes: by pid, and only if the process with that pid started at the recorded
 * instant (a recycled pid belongs to someone else and is left alone).
 *
 * <pre>
 * pids/&lt;name&gt;.pid, Java properties, written to a temp file then renamed:
 *   key=&lt;compute key&gt;
 *   pid=&lt;postmaster pid&gt;
 *   started=&lt;ISO-8601 start instant of that process, as the kernel reports it&gt;
 *   mountpoint=&lt;absolute path of its FUSE mount&gt;
 * </pre>
 */
record PidRecord(String key, long pid, Instant started, Path mountpoint) {

    void write(Path file) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("key", key);
        properties.setProperty("pid", Long.toString(pid));
        properties.setProperty("started", started.toString());
        properties.setProperty("mountpoint", mountpoint.toString());
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (var out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
            properties.store(out, "pgbranch compute");
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The record in {@code file}, or empty if it is unreadable or malformed (reported by the caller). */
    static Optional<PidRecord> read(Path file) throws IOException {
        Properties properties = new Properties();
        properties.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        try {
            return Optional.of(new PidRecord(properties.getProperty("key"),
                    Long.parseLong(properties.getProperty("pid")),
                    Instant.parse(properties.getProperty("started")),
                    Path.of(properties.getProperty("mountpoint"))));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether {@code process} is the very process this record describes. */
    boolean describes(ProcessHandle process) {
        return process.pid() == pid && process.info().startInstant().map(started::equals).orElse(false);
    }
}
