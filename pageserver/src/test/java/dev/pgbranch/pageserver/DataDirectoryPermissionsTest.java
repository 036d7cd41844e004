package dev.pgbranch.pageserver;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The data directory's permission rule on a real directory tree (no server). */
class DataDirectoryPermissionsTest {

    @TempDir
    Path dir;

    private static void mode(Path p, String mode) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** A data directory as an earlier version left it with umask 022. */
    private Path looseDataDirectory() throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(data.resolve("store/layers"));
        Files.createDirectories(data.resolve("run/mnt/default.dev-1234abcd"));
        Files.createDirectories(data.resolve("run/log"));
        Files.writeString(data.resolve("catalog.json"), "{}");
        Files.writeString(data.resolve("store/manifest"), "m");
        Files.writeString(data.resolve("store/layers/a.delta"), "pages");
        Files.writeString(data.resolve("run/log/default.dev.log"), "log");
        for (Path p : new Path[] {data, data.resolve("store"), data.resolve("store/layers"), data.resolve("run"),
                data.resolve("run/mnt"), data.resolve("run/log")}) {
            mode(p, "rwxr-xr-x");
        }
        for (Path p : new Path[] {data.resolve("catalog.json"), data.resolve("store/manifest"),
                data.resolve("store/layers/a.delta"), data.resolve("run/log/default.dev.log")}) {
            mode(p, "rw-r--r--");
        }
        mode(data.resolve("run/mnt/default.dev-1234abcd"), "rwxrwxrwx"); // a mount point: not entered, not judged
        return data;
    }

    @Test
    void filesOtherUsersCouldReadAreTightenedTo0600AndDirectoriesTo0700() throws Exception {
        Path data = looseDataDirectory();
        assertEquals(10, DataDirectoryPermissions.enforce(data, false), "6 directories, 4 files");
        for (String file : new String[] {"catalog.json", "store/manifest", "store/layers/a.delta", "run/log/default.dev.log"}) {
            assertEquals("rw-------", mode(data.resolve(file)), file);
        }
        for (String directory : new String[] {"", "store", "store/layers", "run", "run/mnt", "run/log"}) {
            assertEquals("rwx------", mode(data.resolve(directory)), directory);
        }
        assertEquals(0, DataDirectoryPermissions.enforce(data, false), "a tight directory is left as it is");
    }

    @Test
    void whenComputesRunAsAnotherUserTheirWayStaysTraversableButNeverReadable() throws Exception {
        Path data = looseDataDirectory();
        DataDirectoryPermissions.enforce(data, true);
        for (String way : new String[] {"", "run", "run/mnt"}) {
            assertEquals("rwx--x--x", mode(data.resolve(way)), way);
        }
        assertEquals("rwx------", mode(data.resolve("store")));
        assertEquals("rwx------", mode(data.resolve("run/log")));
        assertEquals("rw-------", mode(data.resolve("store/manifest")));
    }

    @Test
    void aLooseEntryOwnedBySomebodyElseRefusesTheStartAndIsLeftAsItIs() throws Exception {
        assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0, "needs root to chown");
        Path data = looseDataDirectory();
        Path foreign = data.resolve("store/layers/a.delta");
        Files.setAttribute(foreign, "unix:uid", 65534);
        IOException refused = assertThrows(IOException.class, () -> DataDirectoryPermissions.enforce(data, false));
        assertTrue(refused.getMessage().contains(foreign + " is rw-r--r--"), refused.getMessage());
        assertTrue(refused.getMessage().contains("owned by uid 65534"), refused.getMessage());
        assertEquals("rw-r--r--", mode(foreign));
    }
}
