package dev.pgbranch.pageserver.catalog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * The catalog of projects and branches of one data directory, persisted in
 * {@code catalog.json} (format in {@link CatalogFile}).
 *
 * <p>Readers get an immutable {@link CatalogState} snapshot without locking. Writers go through
 * {@link #update}, which is serialized: the change is computed from the current state, written
 * durably, and only then published. A change that throws (e.g. a name that already exists) is
 * neither written nor published. One process per data directory is enforced by the server's
 * lock file, so this class is the single writer of the file.
 *
 * <p>Crash behaviour: after a crash the file holds the last update that returned (or an
 * earlier one if the crash hit during the rename, never a mix). Operations that also touch the
 * storage engine order their steps so that a crash leaves at worst an unreferenced timeline,
 * which the server deletes at its next start.
 */
public final class Catalog {

    private final Path file;
    private volatile CatalogState state;

    private Catalog(Path file, CatalogState state) {
        this.file = file;
        this.state = state;
    }

    /**
     * Loads the catalog from {@code file}, or creates an empty one there if the file does not
     * exist.
     *
     * @throws CatalogException if the file exists but is corrupt or inconsistent
     */
    public static Catalog open(Path file, int defaultPortBase) throws IOException {
        if (Files.exists(file)) {
            return new Catalog(file, CatalogFile.read(file));
        }
        CatalogState empty = CatalogState.empty(defaultPortBase);
        CatalogFile.write(file, empty);
        return new Catalog(file, empty);
    }

    public Path file() {
        return file;
    }

    /** The current state (an immutable snapshot). */
    public CatalogState state() {
        return state;
    }

    /**
     * Applies {@code change} to the current state, persists the result and publishes it.
     * Runtime exceptions of {@code change} propagate and leave the catalog unchanged.
     *
     * @return the new state
     */
    public synchronized CatalogState update(UnaryOperator<CatalogState> change) throws IOException {
        CatalogState next = change.apply(state);
        if (next != state) {
            CatalogFile.write(file, next);
            state = next;
        }
        return next;
    }
}
