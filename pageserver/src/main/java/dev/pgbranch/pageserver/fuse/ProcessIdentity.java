package dev.pgbranch.pageserver.fuse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JVM's effective uid, read from the owner of {@code /proc/self} (the kernel reports a
 * process's directory as owned by its effective ids), so no native call is needed.
 *
 * <p>Thread-safety: stateless.
 */
final class ProcessIdentity {

    private ProcessIdentity() {
    }

    static int effectiveUid() {
        return attribute("unix:uid");
    }

    private static int attribute(String name) {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self", e);
        }
    }
}
