package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.Timeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A timeline served over a real FUSE mount, exercised through the kernel by this JVM and by real
 * processes ({@code rmdir}, {@code touch} as another user).
 */
@Tag("integration")
class FuseMountTest {

    private static final int POSTGRES_UID = uid("postgres");
    private static final int POSTGRES_GID = gid("postgres");

    @TempDir
    Path temp;

    private TimelineSource source;
    private Timeline timeline;
    private FuseMount mount;
    private Path root;

    @BeforeEach
    void mountTimeline() throws IOException {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        source = TimelineSource.open(temp.resolve("store"), POSTGRES_UID, POSTGRES_GID);
        timeline = source.timeline();
        mount = FuseMount.mount(timeline, temp.resolve("mnt"), MountOptions.ownedBy(POSTGRES_UID, POSTGRES_GID));
        root = mount.mountpoint();
    }

    @AfterEach
    void unmount() throws Exception {
        try {
            if (mount != null) {
                mount.close();
                assertFalse(FuseMount.isMountPoint(root), "still mounted after close");
            }
        } finally {
            source.close();
        }
    }

    @Test
    void writtenFileReadsBackThroughTheMountAndTheTimeline() throws IOException {
        byte[] data = new byte[100_000];
        new Random(42).nextBytes(data);
        Files.write(root.resolve("file"), data);

        assertArrayEquals(data, Files.readAllBytes(root.resolve("file")));
        try (FileChannel channel = FileChannel.open(root.resolve("file"), StandardOpenOption.READ,
                StandardOpenOption.SYNC)) {
            channel.force(true); // fsync: the kernel writes its cached pages back to the timeline
        }
        assertEquals(timeline.lastLsn(), timeline.durableLsn(), "fsync made everything durable");
        long inode = timeline.lookup(Namespace.ROOT_INODE, "file");
        ByteBuffer stored = ByteBuffer.allocate(data.length + 10);
        assertEquals(data.length, timeline.read(inode, 0, stored));
        assertArrayEquals(data, java.util.Arrays.copyOf(stored.array(), data.length));
    }

    @Test
    void closingAFileLeavesDurabilityToFsync() throws IOException {
        try (FileChannel channel = FileChannel.open(root.resolve("closed"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[8192]));
        }
        // close(2) sent FLUSH after the kernel wrote the page back: in the timeline, not forced.
        assertEquals(8192, timeline.attributes(timeline.lookup(Namespace.ROOT_INODE, "closed")).orElseThrow().size());
        assertTrue(timeline.durableLsn() < timeline.lastLsn(), "close did not sync the store");
        try (FileChannel channel = FileChannel.open(root.resolve("closed"), StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        assertEquals(timeline.lastLsn(), timeline.durableLsn(), "fsync did");
    }

    @Test
    void fileTimesHaveOneSecondGranularitySoACommitPerWriteSendsAtMostOneTimeUpdateASecond() throws Exception {
        FuseRequests requests = new FuseRequests();
        try (FuseMount counted = FuseMount.mount(timeline, temp.resolve("counted"),
                MountOptions.ownedBy(POSTGRES_UID, POSTGRES_GID), requests)) {
            Path wal = counted.mountpoint().resolve("wal");
            try (FileChannel channel = FileChannel.open(wal, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                long start = System.nanoTime();
                int commits = 0;
                // Postgres' commit: write the WAL page, fdatasync; 50 of them in well under two seconds.
                while (commits < 50 && System.nanoTime() - start < 1_500_000_000L) {
                    channel.write(ByteBuffer.wrap(new byte[8192]), 0);
                    channel.force(false);
                    commits++;
                }
                long seconds = (System.nanoTime() - start) / 1_000_000_000L + 2;
                assertEquals(commits, requests.count("fsync"), "one FSYNC per commit");
                assertTrue(requests.count("utimens") <= seconds, requests.render());
            }
            assertEquals(0, Files.getLastModifiedTime(wal).toInstant().getNano(), "mtime in whole seconds");
        }
    }

    @Test
    void truncatedThenExtendedFileReadsZeros() throws IOException {
        Path file = root.resolve("relation");
        byte[] ones = new byte[3 * 8192];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        Files.write(file, ones);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
            channel.truncate(100);
            channel.force(true);
            channel.write(ByteBuffer.wrap(new byte[] {7}), 20_000);
            channel.force(true);
        }
        byte[] read = Files.readAllBytes(file);
        assertEquals(20_001, read.length);
        for (int i = 0; i < 100; i++) {
            assertEquals((byte) 0xFF, read[i]);
        }
        for (int i = 100; i < 20_000; i++) {
            assertEquals(0, read[i], "byte " + i + " of the truncated range");
        }
        assertEquals(7, read[20_000]);
    }

    @Test
    void openWithTruncateEmptiesTheFile() throws IOException {
        Path file = root.resolve("conf");
        Files.write(file, new byte[10_000]);
        Files.writeString(file, "x", StandardOpenOption.TRUNCATE_EXISTING);
        assertEquals("x", Files.readString(file));
        assertEquals(1, Files.size(file));
    }

    @Test
    void renameReplacesAnExistingFile() throws IOException {
        Files.writeString(root.resolve("a"), "new");
        Files.writeString(root.resolve("b"), "old contents");
        Files.move(root.resolve("a"), root.resolve("b"), StandardCopyOption.ATOMIC_MOVE);
        assertEquals("new", Files.readString(root.resolve("b")));
        assertFalse(Files.exists(root.resolve("a")));
        assertEquals(List.of("b"), names(root));
    }

    @Test
    void readdirListsFilesAndDirectories() throws IOException {
        Files.createDirectories(root.resolve("base/1"));
        Files.writeString(root.resolve("base/1/1259"), "x");
        Files.writeString(root.resolve("base/1/1249"), "y");
        Files.writeString(root.resolve("PG_VERSION"), "15\n");
        assertEquals(List.of("PG_VERSION", "base"), names(root));
        assertEquals(List.of("1249", "1259"), names(root.resolve("base/1")));
        assertTrue(Files.isDirectory(root.resolve("base")));
        assertTrue(Files.isRegularFile(root.resolve("base/1/1259")));

        Path big = Files.createDirectory(root.resolve("pg_wal"));
        for (int i = 0; i < 2000; i++) {
            Files.createFile(big.resolve(String.format("%024X", i)));
        }
        List<String> listed = names(big);
        assertEquals(2000, listed.size());
        assertEquals(String.format("%024X", 1999), listed.getLast());
    }

    @Test
    void newFilesBelongToTheCallingUser() throws Exception {
        Path shared = Files.createDirectory(root.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(shared.resolve("by-root"), "r");

        run(List.of("setpriv", "--reuid=" + POSTGRES_UID, "--regid=" + POSTGRES_GID, "--clear-groups",
                "touch", shared.resolve("by-postgres").toString()), 0);
        run(List.of("setpriv", "--reuid=" + POSTGRES_UID, "--regid=" + POSTGRES_GID, "--clear-groups",
                "mkdir", shared.resolve("dir-by-postgres").toString()), 0);

        assertEquals(0, Files.getAttribute(shared.resolve("by-root"), "unix:uid"));
        assertEquals(POSTGRES_UID, Files.getAttribute(shared.resolve("by-postgres"), "unix:uid"));
        assertEquals(POSTGRES_GID, Files.getAttribute(shared.resolve("by-postgres"), "unix:gid"));
        assertEquals(POSTGRES_UID, Files.getAttribute(shared.resolve("dir-by-postgres"), "unix:uid"));
        long inode = timeline.lookup(timeline.lookup(Namespace.ROOT_INODE, "shared"), "by-postgres");
        assertEquals(POSTGRES_UID, timeline.attributes(inode).orElseThrow().uid(), "stored owner");
    }

    @Test
    void permissionsAreEnforcedForOtherUsers() throws Exception {
        Files.writeString(root.resolve("secret"), "s");
        Files.setPosixFilePermissions(root.resolve("secret"), PosixFilePermissions.fromString("rw-------"));
        Files.setAttribute(root.resolve("secret"), "unix:uid", 0);
        String output = run(List.of("setpriv", "--reuid=" + POSTGRES_UID, "--regid=" + POSTGRES_GID,
                "--clear-groups", "cat", root.resolve("secret").toString()), 1);
        assertTrue(output.contains("Permission denied"), output);
    }

    @Test
    void rootDirectoryShowsTheComputeUserAndMode0700() throws IOException {
        assertEquals(POSTGRES_UID, Files.getAttribute(root, "unix:uid"));
        assertEquals(POSTGRES_GID, Files.getAttribute(root, "unix:gid"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
    }

    @Test
    void removingANonEmptyDirectoryFailsWithEnotempty() throws Exception {
        Files.createDirectory(root.resolve("dir"));
        Files.writeString(root.resolve("dir/file"), "x");

        String output = run(List.of("rmdir", root.resolve("dir").toString()), 1);
        assertTrue(output.contains("Directory not empty"), output);
        assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(root.resolve("dir")));

        Files.delete(root.resolve("dir/file"));
        Files.delete(root.resolve("dir"));
        assertEquals(List.of(), names(root));
    }

    @Test
    void missingFilesAndBadNamesComeBackAsErrno() throws Exception {
        assertThrows(NoSuchFileException.class, () -> Files.readAllBytes(root.resolve("missing")));
        assertThrows(NoSuchFileException.class, () -> Files.writeString(root.resolve("no/such/dir"), "x"));
        Files.writeString(root.resolve("file"), "x");
        String output = run(List.of("mkdir", root.resolve("file").toString()), 1);
        assertTrue(output.contains("File exists"), output);
        java.nio.file.FileSystemException tooLong = assertThrows(java.nio.file.FileSystemException.class,
                () -> Files.createFile(root.resolve("x".repeat(256))));
        assertTrue(tooLong.getMessage().contains("File name too long"), tooLong.getMessage());
        Files.createFile(root.resolve("y".repeat(255)));
        output = run(List.of("ln", "-s", "target", root.resolve("link").toString()), 1);
        assertFalse(output.isBlank());
        output = run(List.of("ln", root.resolve("file").toString(), root.resolve("hard").toString()), 1);
        assertFalse(output.isBlank());
    }

    @Test
    void postmasterPidAndStatsTempFilesStayOutOfTheTimeline() throws IOException {
        Files.createDirectory(root.resolve("pg_stat_tmp"));
        Files.writeString(root.resolve("postmaster.pid"), "12345\n");
        Files.writeString(root.resolve("postmaster.opts"), "postgres -D x\n");
        Files.writeString(root.resolve("pg_stat_tmp/pgss_query_texts.stat"), "select 1");
        Files.writeString(root.resolve("PG_VERSION"), "15\n");

        assertEquals("12345\n", Files.readString(root.resolve("postmaster.pid")));
        assertEquals(List.of("PG_VERSION", "pg_stat_tmp", "postmaster.opts", "postmaster.pid"), names(root));
        assertEquals(List.of("pgss_query_texts.stat"), names(root.resolve("pg_stat_tmp")));

        assertEquals(Namespace.NO_INODE, timeline.lookup(Namespace.ROOT_INODE, "postmaster.pid"));
        assertEquals(Namespace.NO_INODE, timeline.lookup(Namespace.ROOT_INODE, "postmaster.opts"));
        long stats = timeline.lookup(Namespace.ROOT_INODE, "pg_stat_tmp");
        assertEquals(InodeKind.DIRECTORY, timeline.attributes(stats).orElseThrow().kind());
        assertEquals(List.of(), timeline.list(stats));
        assertNotEquals(Namespace.NO_INODE, timeline.lookup(Namespace.ROOT_INODE, "PG_VERSION"));

        assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(root.resolve("pg_stat_tmp")));
        try (FileChannel pid = FileChannel.open(root.resolve("postmaster.pid"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            Files.delete(root.resolve("postmaster.pid")); // unlinked while open, as at shutdown
            pid.write(ByteBuffer.wrap("still open".getBytes(StandardCharsets.UTF_8)), 0);
            pid.force(true);
            ByteBuffer back = ByteBuffer.allocate(10);
            assertEquals(10, pid.read(back, 0));
            assertEquals("still open", new String(back.array(), StandardCharsets.UTF_8));
        }
        assertFalse(Files.exists(root.resolve("postmaster.pid")));
        assertEquals(List.of("PG_VERSION", "pg_stat_tmp", "postmaster.opts"), names(root));
    }

    @Test
    void aFileUnlinkedWhileOpenStaysWritableAndLeavesNoHiddenName() throws IOException {
        Path file = root.resolve("temp-sort-file");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            channel.write(ByteBuffer.wrap(new byte[8192]), 0);
            Files.delete(file);
            assertFalse(Files.exists(file));
            assertEquals(List.of(), names(root));
            channel.write(ByteBuffer.wrap(new byte[8192]), 8192); // write-back to an unlinked file
            channel.force(true);
        }
        assertEquals(List.of(), names(root));
        assertEquals(List.of(), timeline.list(Namespace.ROOT_INODE), "no .fuse_hidden* name versioned");
        Files.writeString(file, "reborn");
        assertEquals("reborn", Files.readString(file));
    }

    @Test
    void concurrentWritersAndReadersSeeTheirOwnBytes() throws Exception {
        int writers = 8;
        int pages = 64;
        try (var executor = java.util.concurrent.Executors.newFixedThreadPool(writers + 1)) {
            List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int id = w;
                futures.add(executor.submit(() -> {
                    Path file = root.resolve("rel-" + id);
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                        for (int page = 0; page < pages; page++) {
                            byte[] bytes = new byte[8192];
                            java.util.Arrays.fill(bytes, (byte) (id * 31 + page));
                            channel.write(ByteBuffer.wrap(bytes), (long) page * 8192);
                            if (page % 16 == 15) {
                                channel.force(false);
                            }
                        }
                    }
                    return null;
                }));
            }
            futures.add(executor.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    names(root);
                }
                return null;
            }));
            for (var future : futures) {
                future.get(60, TimeUnit.SECONDS);
            }
        }
        for (int w = 0; w < writers; w++) {
            byte[] read = Files.readAllBytes(root.resolve("rel-" + w));
            assertEquals(pages * 8192, read.length);
            for (int page = 0; page < pages; page++) {
                assertEquals((byte) (w * 31 + page), read[page * 8192], "file " + w + " page " + page);
                assertEquals((byte) (w * 31 + page), read[page * 8192 + 8191], "file " + w + " page " + page);
            }
        }
    }

    @Test
    void closeUnmountsEvenWhileAFileIsOpen() throws Exception {
        Files.writeString(root.resolve("held"), "x");
        try (FileChannel held = FileChannel.open(root.resolve("held"), StandardOpenOption.READ)) {
            mount.close();
            assertFalse(FuseMount.isMountPoint(root));
            assertTrue(held.isOpen());
        } catch (IOException expected) {
            // closing a file of a detached, stopped mount may report the lost connection
        }
        assertFalse(FuseMount.isMountPoint(root));
        mount.close(); // idempotent
    }

    @Test
    void mountingOverANonEmptyDirectoryIsRefused() throws IOException {
        Path occupied = Files.createDirectories(temp.resolve("occupied"));
        Files.writeString(occupied.resolve("file"), "x");
        IOException e = assertThrows(IOException.class,
                () -> FuseMount.mount(timeline, occupied, MountOptions.ownedBy(POSTGRES_UID, POSTGRES_GID)));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertFalse(FuseMount.isMountPoint(occupied));
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> children = Files.list(directory)) {
            return children.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Runs a real process and checks its exit code (0, or any failure when {@code expected} != 0). */
    private static String run(List<String> command, int expected) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        if (expected == 0) {
            assertEquals(0, process.exitValue(), output);
        } else {
            assertNotEquals(0, process.exitValue(), output);
        }
        return output;
    }

    static int uid(String user) {
        return Integer.parseInt(id("-u", user));
    }

    static int gid(String user) {
        return Integer.parseInt(id("-g", user));
    }

    private static String id(String flag, String user) {
        try {
            Process process = new ProcessBuilder("id", flag, user).start();
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
