package dev.pgbranch.pageserver;

import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server started the way users start it, through {@code ./pgbranch} from a shell with the
 * common umask 022: the launcher's umask and heap, and no file of the data directory readable by
 * another user; an earlier version's loose files are tightened at the next start.
 */
@Tag("integration")
class ServerFilesArePrivateTest {

    private static final List<String> TRAVERSED = List.of("", "run", "run/mnt", "run/sock", "run/tmp");

    @Test
    void everyFileTheServerAndItsComputesCreateIsForTheServersUserAlone() throws Exception {
        try (ServerProcess server = new ServerProcess("ServerFilesArePrivateTest").viaLauncher(Map.of())) {
            server.start();
            String status = Files.readString(Path.of("/proc", Long.toString(server.pid()), "status"));
            assertTrue(status.contains("Umask:\t0077"), status);
            String cmdline = Files.readString(Path.of("/proc", Long.toString(server.pid()), "cmdline")).replace('\0', ' ');
            assertTrue(cmdline.contains(" -Xmx" + expectedHeapMib() + "m "), cmdline);

            try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
                sql.execute("CREATE TABLE secrets (v text)"); // a compute: its log, socket directory, pid record
            }
            server.rememberComputePids();
            boolean otherComputeUser = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
            assertEquals(List.of(), loose(server.dataDirectory(), otherComputeUser));
            assertTrue(Files.exists(server.dataDirectory().resolve("run/log")), "the compute's log is checked too");

            server.stop();
            Path data = server.dataDirectory();
            for (String earlier : new String[] {"catalog.json", "store", "store/manifest", "api-token"}) {
                Files.setPosixFilePermissions(data.resolve(earlier), PosixFilePermissions.fromString(
                        Files.isDirectory(data.resolve(earlier)) ? "rwxr-xr-x" : "rw-r--r--"));
            }
            server.restart();
            assertEquals(List.of(), loose(data, otherComputeUser));
            assertTrue(server.logTail().contains("tightened the permissions of 4 entries"), server.logTail());
        }
    }

    @Test
    void pgbranchHeapOverridesTheHeapAndABadValueIsRefused() throws Exception {
        String flags = launcher(Map.of("PGBRANCH_HEAP", "768m", "PGBRANCH_JAVA_OPTS", "-XX:+PrintFlagsFinal"), 0);
        assertTrue(flags.matches("(?s).*MaxHeapSize\\s*=\\s*805306368\\s.*"), flags);
        String refused = launcher(Map.of("PGBRANCH_HEAP", "lots"), 2);
        assertTrue(refused.contains("PGBRANCH_HEAP='lots' is not a heap size like 2g or 1536m"), refused);
    }

    /** The launcher's rule: a quarter of the memory (or of the cgroup's limit), 256 MiB to 8 GiB. */
    private static long expectedHeapMib() throws IOException {
        long kib = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElseThrow();
        Path cgroup = Path.of("/sys/fs/cgroup/memory.max");
        if (Files.isReadable(cgroup)) {
            String limit = Files.readString(cgroup).strip();
            if (limit.matches("\\d+") && Long.parseLong(limit) / 1024 < kib) {
                kib = Long.parseLong(limit) / 1024;
            }
        }
        return Math.min(8192, Math.max(256, kib / 1024 / 4));
    }

    /** {@code ./pgbranch server --help} with {@code environment}; its output, after checking the exit code. */
    private static String launcher(Map<String, String> environment, int exitCode) throws Exception {
        Path script = Path.of("").toAbsolutePath().getParent().resolve("pgbranch");
        ProcessBuilder builder = new ProcessBuilder(script.toString(), "server", "--help").redirectErrorStream(true);
        builder.environment().put("PGBRANCH_CLASSPATH", System.getProperty("java.class.path"));
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().putAll(environment);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(1, TimeUnit.MINUTES));
        assertEquals(exitCode, process.exitValue(), out);
        return out;
    }

    /** Entries of {@code data} other users could read or write (mount points are not entered). */
    private static List<String> loose(Path data, boolean traversable) throws IOException {
        List<String> out = new ArrayList<>();
        Files.walkFileTree(data, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String relative = data.relativize(dir).toString();
                String expected = traversable && TRAVERSED.contains(relative) ? "rwx--x--x" : "rwx------";
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS));
                if (!mode.equals(expected) && !relative.startsWith("run/sock/")) { // the socket directory is Postgres's
                    out.add(relative + " " + mode);
                }
                return relative.equals("run/mnt") ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
                if (!mode.endsWith("------") && !data.relativize(file).toString().startsWith("run/sock/")) {
                    out.add(data.relativize(file) + " " + mode);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return out;
    }
}
