package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store on a 4 MB tmpfs: filling it must reach the writer as ENOSPC, not EIO or a dead mount,
 * and once space returns the store flushes and closes cleanly.
 */
@Tag("integration")
class FuseDiskFullTest {

    @Test
    void aFullStoreDiskComesBackAsEnospcAndTheMountStaysUsable(@TempDir Path temp) throws Exception {
        Path small = Files.createDirectory(temp.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small.toString());
        try (PageStore store = PageStore.open(small.resolve("store"), StoreOptions.defaults())) {
            Timeline timeline = store.timeline(store.createRootTimeline(0, 0));
            try (FuseMount mount = FuseMount.mount(timeline, temp.resolve("mnt"), MountOptions.ownedBy(0, 0))) {
                Path file = mount.mountpoint().resolve("big");
                // Random bytes: the engine stores all-zero pages as small tombstones, and LZ4 would
                // shrink any other regular pattern, so only incompressible data fills the disk.
                byte[] page = new byte[8192];
                Random random = new Random(42);
                IOException full = assertThrows(IOException.class, () -> {
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                        for (int i = 0; i < 2048; i++) { // 16 MB
                            random.nextBytes(page);
                            channel.write(ByteBuffer.wrap(page));
                        }
                        channel.force(true);
                    }
                });
                assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), full.toString());
                assertTrue(Files.isDirectory(mount.mountpoint()), "mount still serves requests");
                assertTrue(Files.exists(file));
                // Space returns (the operator grows the volume): the store must flush and close cleanly.
                run("mount", "-o", "remount,size=64m", small.toString());
            }
        } finally {
            run("umount", small.toString());
        }
        assertFalse(FuseMount.isMountPoint(temp.resolve("mnt")));
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
    }
}
