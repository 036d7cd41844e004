package dev.pgbranch.pageserver.compute;

import dev.pgbranch.storage.TimelineId;

import java.nio.file.Path;

/**
 * A running compute: a Postgres postmaster serving {@code timeline} on 127.0.0.1:{@code port},
 * its data directory being the FUSE mount at {@code dataDirectory}.
 *
 * @param key the caller's name for it (one compute per key)
 * @param pid the postmaster's process id
 */
public record Compute(String key, TimelineId timeline, int port, long pid, Path dataDirectory) {
}
