package dev.pgbranch.pageserver.catalog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * <p>Generations: every write carries a generation one above the previous, and afterwards the
 * highest generation written is recorded beside the file ({@code catalog.generation}, decimal
 * text). A {@code catalog.json} whose generation is below that record is an older copy (a backup
 * put back): the server refuses it unless told to accept it, because what was done since is
 * only in the store.
 *
 * <p>Crash behaviour: after a crash the file holds the last update that returned (or an
 * earlier one if the crash hit during the rename, never a mix); the generation record may lag
 * the file by one write, never lead it. Operations that also touch the storage engine order
 * their steps so that a crash leaves at worst a timeline no catalog lists, which the server
 * quarantines at its next start (never deletes).
 */
public final class Catalog {

    private final Path file;
    private volatile CatalogState state;
    /** Generation of the file as read or last written; guarded by {@code this} for writers. */
    private volatile long generation;
    /** The recorded highest generation when opened: the next write goes above it even from an older copy. */
    private final long floor;

    private Catalog(Path file, CatalogState state, long generation, long floor) {
        this.file = file;
        this.state = state;
        this.generation = generation;
        this.floor = floor;
    }

    /**
     * Loads the catalog from {@code file}, or creates an empty one there if the file does not
     * exist. Only for a directory known to be new (tests); the server decides between
     * {@link #load} and {@link #create} itself, because a missing file next to a store that
     * holds data must not be replaced by an empty catalog.
     *
     * @throws CatalogException if the file exists but is corrupt or inconsistent
     */
    public static Catalog open(Path file, int defaultPortBase) throws IOException {
        return Files.exists(file) ? load(file) : create(file, defaultPortBase);
    }

    /**
     * Reads the catalog in {@code file}; writes nothing.
     *
     * @throws CatalogException if the file is missing, corrupt or inconsistent
     */
    public static Catalog load(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new CatalogException(CatalogException.Reason.MISSING, "catalog file " + file + " does not exist");
        }
        CatalogFile.Stored stored = CatalogFile.read(file);
        return new Catalog(file, stored.state(), stored.generation(), recordedGeneration(file));
    }

    /**
     * Writes a new, empty catalog (generation one above the recorded highest, so the record
     * never runs ahead of the file).
     *
     * @throws java.nio.file.FileAlreadyExistsException if {@code file} exists
     */
    public static Catalog create(Path file, int defaultPortBase) throws IOException {
        if (Files.exists(file)) {
            throw new java.nio.file.FileAlreadyExistsException(file.toString());
        }
        long recorded = recordedGeneration(file);
        Catalog catalog = new Catalog(file, CatalogState.empty(defaultPortBase), recorded, recorded);
        catalog.write(catalog.state);
        return catalog;
    }

    /**
     * The highest generation ever written to {@code file}, from the record beside it; 0 when
     * there is no record (a new directory, or one written before generations existed).
     *
     * @throws CatalogException if the record exists but is not a number
     */
    public static long recordedGeneration(Path file) throws IOException {
        Path record = generationRecord(file);
        if (!Files.exists(record)) {
            return 0;
        }
        String text = Files.readString(record, StandardCharsets.US_ASCII).strip();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new CatalogException(CatalogException.Reason.CORRUPT, "the catalog's generation record " + record
                    + " is not a number ('" + text + "'); refusing to start. If catalog.json is the latest one, "
                    + "delete " + record + " and start again", e);
        }
    }

    private static Path generationRecord(Path file) {
        return file.resolveSibling("catalog.generation");
    }

    public Path file() {
        return file;
    }

    /** The generation of the catalog's last write. */
    public long generation() {
        return generation;
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
            write(next);
            state = next;
        }
        return next;
    }

    private void write(CatalogState next) throws IOException {
        long nextGeneration = Math.max(generation, floor) + 1;
        CatalogFile.write(file, next, nextGeneration);
        generation = nextGeneration;
        // After the catalog: the record may lag the file (a crash in between), never lead it.
        DurableFiles.replace(generationRecord(file), (nextGeneration + "\n").getBytes(StandardCharsets.US_ASCII),
                DurableFiles.OWNER_ONLY);
    }
}
