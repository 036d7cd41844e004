package dev.pgbranch.pageserver;

import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.pageserver.catalog.CatalogException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Decides at start, before the store is opened and before anything is written, whether the
 * data directory's {@code catalog.json} may be used with the store beside it:
 *
 * <ul>
 *   <li>no catalog and an empty (or absent) {@code store/}: a new data directory; an empty
 *       catalog is written;
 *   <li>no catalog but files in {@code store/}: refused ({@link CatalogException.Reason#MISSING});
 *   <li>a catalog that does not read: refused ({@link CatalogException.Reason#CORRUPT});
 *   <li>a catalog whose generation is below the one recorded beside it (an older copy put back):
 *       refused ({@link CatalogException.Reason#OLDER}).
 * </ul>
 *
 * Every refusal leaves every byte of the data directory as it was and says what the operator
 * can do. With {@code acceptOlder} (the operator's {@code --accept-older-catalog}) a missing or
 * older catalog is used anyway: the timelines it does not list are then quarantined, not
 * deleted ({@link dev.pgbranch.pageserver.branch.Quarantine}).
 *
 * <p>Stateless.
 */
final class CatalogGuard {

    private static final System.Logger LOG = System.getLogger(CatalogGuard.class.getName());

    private static final String WHAT_TO_DO = "Nothing was written and store/ is untouched. Put back catalog.json "
            + "from a backup; if that copy is older than the store, start with --accept-older-catalog: the timelines "
            + "it does not list are then quarantined (kept, not served; 'pgbranch store quarantine list', 'adopt' "
            + "them as branches again or 'purge' them), never deleted";

    private CatalogGuard() {
    }

    static Catalog open(Path catalogFile, Path storeDirectory, int portBase, boolean acceptOlder) throws IOException {
        if (!Files.exists(catalogFile)) {
            long storeFiles = countFiles(storeDirectory);
            if (storeFiles == 0) {
                return Catalog.create(catalogFile, portBase);
            }
            if (!acceptOlder) {
                throw new CatalogException(CatalogException.Reason.MISSING, catalogFile + " is missing but "
                        + storeDirectory + " holds " + storeFiles + " file(s) of branch data: refusing to start "
                        + "with an empty catalog. " + WHAT_TO_DO + ". With no backup at all, "
                        + "--accept-older-catalog starts with an empty catalog and quarantines every timeline");
            }
            LOG.log(System.Logger.Level.WARNING, "{0} is missing; starting with an empty catalog as asked "
                    + "(--accept-older-catalog): every timeline of the store goes to quarantine", catalogFile);
            return Catalog.create(catalogFile, portBase);
        }
        Catalog catalog;
        try {
            catalog = Catalog.load(catalogFile);
        } catch (CatalogException e) {
            throw new CatalogException(e.reason(), e.getMessage() + ". " + WHAT_TO_DO, e);
        }
        long recorded = Catalog.recordedGeneration(catalogFile);
        if (catalog.generation() < recorded) {
            if (!acceptOlder) {
                throw new CatalogException(CatalogException.Reason.OLDER, catalogFile + " is generation "
                        + catalog.generation() + " but this data directory has written generation " + recorded
                        + ": it is an older copy (put back from a backup?), and what was done since is only in the "
                        + "store. Refusing to start with it. " + WHAT_TO_DO);
            }
            LOG.log(System.Logger.Level.WARNING, "{0} is generation {1}, older than the {2} written here; using it as "
                    + "asked (--accept-older-catalog): the timelines it does not list go to quarantine",
                    catalogFile, catalog.generation(), recorded);
        }
        return catalog;
    }

    /** Regular files under {@code directory}, 0 if it does not exist. */
    private static long countFiles(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).count();
        } catch (NoSuchFileException e) {
            return 0;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
