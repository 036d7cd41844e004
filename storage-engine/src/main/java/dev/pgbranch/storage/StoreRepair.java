package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An operator's deliberate repairs of a closed store (the server stopped): the store never does
 * these on its own, because each one accepts a loss. Each rewrites the manifest atomically and
 * moves rather than deletes.
 *
 * <ul>
 *   <li>{@link #release}: serve a quarantined timeline again as it now is (after a damaged log:
 *       its state as of the cut; the cut bytes stay under {@code quarantine/}).</li>
 *   <li>{@link #dropLayer}: take a damaged layer file out of its timeline (moved to
 *       {@code quarantine/layers/}); reads then see the versions older than the file's, so the
 *       timeline's newest history in that file is lost. Its timeline stays quarantined until
 *       released.</li>
 * </ul>
 *
 * <p>Thread-safety: takes the store's lock file; fails if the store is open.
 */
public final class StoreRepair {

    private static final System.Logger LOG = System.getLogger(StoreRepair.class.getName());

    private StoreRepair() {
    }

    /** Releases {@code id}, and every descendant held back only because of it. */
    public static void release(Path directory, TimelineId id) throws IOException {
        edit(directory, manifest -> {
            Manifest.TimelineEntry target = find(manifest, id);
            if (target.quarantine() == null) {
                throw new IllegalArgumentException("timeline " + id + " is not quarantined");
            }
            List<Manifest.TimelineEntry> out = new ArrayList<>();
            for (Manifest.TimelineEntry e : manifest.timelines()) {
                boolean becauseOfIt = e.quarantine() != null && e.quarantine().equals("its ancestor " + id + " is quarantined");
                out.add(e.id().equals(id) || becauseOfIt ? e.withQuarantine(null) : e);
            }
            LOG.log(System.Logger.Level.WARNING, "released quarantined timeline {0} ({1})", id, target.quarantine());
            return new Manifest(manifest.nextLayerId(), List.copyOf(out));
        });
    }

    /** Moves layer file {@code fileName} (as listed under {@code layers/}) aside and out of the manifest. */
    public static void dropLayer(Path directory, String fileName) throws IOException {
        Disk disk = OsDisk.INSTANCE;
        Path quarantine = directory.resolve("quarantine").resolve("layers");
        edit(directory, manifest -> {
            List<Manifest.TimelineEntry> out = new ArrayList<>();
            boolean found = false;
            for (Manifest.TimelineEntry e : manifest.timelines()) {
                List<Manifest.LayerEntry> layers = new ArrayList<>();
                for (Manifest.LayerEntry l : e.layers()) {
                    if (Manifest.layerFileName(e.id(), l.id()).equals(fileName)) {
                        found = true;
                    } else {
                        layers.add(l);
                    }
                }
                out.add(layers.size() == e.layers().size() ? e : new Manifest.TimelineEntry(e.id(), e.ancestor(),
                        e.diskConsistentLsn(), e.gcHorizon(), List.copyOf(layers), e.lsnFloor(),
                        e.quarantine() != null ? e.quarantine() : "layer file " + fileName + " was dropped by an operator"));
            }
            if (!found) {
                throw new IllegalArgumentException("no layer file " + fileName + " in the manifest of " + directory);
            }
            return new Manifest(manifest.nextLayerId(), List.copyOf(out));
        });
        Path file = directory.resolve("layers").resolve(fileName);
        if (disk.exists(file)) {
            disk.createDirectories(quarantine);
            disk.move(file, quarantine.resolve(fileName));
            disk.syncDirectory(quarantine);
            disk.syncDirectory(file.getParent());
        }
        LOG.log(System.Logger.Level.WARNING, "dropped layer file {0}; kept in {1}", fileName, quarantine);
    }

    private static Manifest.TimelineEntry find(Manifest manifest, TimelineId id) {
        for (Manifest.TimelineEntry e : manifest.timelines()) {
            if (e.id().equals(id)) {
                return e;
            }
        }
        throw new IllegalArgumentException("no timeline " + id + " in the manifest");
    }

    private interface Edit {
        Manifest apply(Manifest manifest) throws IOException;
    }

    private static void edit(Path directory, Edit edit) throws IOException {
        Disk disk = OsDisk.INSTANCE;
        try (FileChannel lockFile = disk.open(directory.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = lockFile.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IOException("page store " + directory + " is open: stop the server before repairing it");
            }
            try {
                Manifest manifest = Manifest.read(directory, disk);
                if (manifest == null) {
                    throw new IOException("page store " + directory + " has no manifest");
                }
                edit.apply(manifest).write(directory, true, disk);
            } finally {
                lock.release();
            }
        }
    }
}
