package dev.pgbranch.pageserver.fuse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Locates libfuse3. jfuse would call {@code System.loadLibrary("fuse3")}, which needs the
 * {@code libfuse3.so} development symlink that Debian ships only in {@code libfuse3-dev}; we
 * hand jfuse the absolute path of the runtime library instead
 * ({@code FuseBuilder.setLibraryPath}).
 *
 * <p>The system property {@value #PROPERTY} overrides the search.
 *
 * <p>Thread-safety: stateless.
 */
final class Libfuse {

    static final String PROPERTY = "pgbranch.libfuse";

    private static final List<String> CANDIDATES = List.of(
            "/usr/lib/x86_64-linux-gnu/libfuse3.so.3",
            "/lib/x86_64-linux-gnu/libfuse3.so.3",
            "/usr/lib/aarch64-linux-gnu/libfuse3.so.3",
            "/lib/aarch64-linux-gnu/libfuse3.so.3",
            "/usr/lib64/libfuse3.so.3",
            "/usr/lib/libfuse3.so.3");

    private Libfuse() {
    }

    /** The library to load; {@link IllegalStateException} naming what was tried if absent. */
    static Path path() {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured);
            if (!Files.isReadable(path)) {
                throw new IllegalStateException("-D" + PROPERTY + "=" + configured + " is not a readable file");
            }
            return path;
        }
        for (String candidate : CANDIDATES) {
            Path path = Path.of(candidate);
            if (Files.isReadable(path)) {
                return path;
            }
        }
        throw new IllegalStateException("libfuse3 not found (install the fuse3 package, or set -D"
                + PROPERTY + "=/path/to/libfuse3.so.3); tried " + CANDIDATES);
    }
}
