package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.Timeline;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.cryptomator.jfuse.api.FuseMountFailedException;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A mounted timeline: a Postgres data directory served over FUSE until {@link #close()}.
 *
 * <p>Mount options, and why:
 * <ul>
 *   <li>{@code kernel_cache}, long {@code attr_timeout}/{@code entry_timeout}/{@code negative_timeout}:
 *       this mount is the only writer of its timeline, so what the kernel cached stays true;
 *       with short timeouts every Postgres file access became a getattr round trip.</li>
 *   <li>writeback cache on and AUTO_INVAL_DATA off (done in {@code init}, see
 *       {@link TimelineFilesystem}); {@code pgbench -i} went from 14 s to 2.4 s with them.</li>
 *   <li>no {@code hard_remove}: with it libfuse hands jfuse a NULL path for operations on files
 *       unlinked while open, which crashes the JVM inside jfuse. libfuse instead renames such a
 *       file to {@code .fuse_hidden*}; the filesystem turns that rename into the unlink, so no
 *       hidden name is ever versioned or inherited by a branch.</li>
 *   <li>{@code default_permissions}: the kernel checks mode bits, so the compute user gets
 *       exactly the access a local disk would give it; {@code allow_other} when root mounts for
 *       another user.</li>
 *   <li>multi-threaded loop (libfuse's default; no {@code -s}).</li>
 * </ul>
 *
 * <p>Unmounting: {@link #close()} asks libfuse to unmount (as root that is a lazy
 * {@code umount2(MNT_DETACH)}) and waits for the loop to end; if the mountpoint is still in the
 * mount table it runs {@code fusermount3 -uz}. A mount whose files are still held open by some
 * process is detached (gone from {@code /proc/mounts}) and served until they close them. Nothing is
 * ever left mounted by a close, whatever state the mount was in.
 *
 * <p>Crash behaviour: on a normal JVM exit (including SIGTERM) a shutdown hook gives the owners
 * of still-open mounts {@value #EXIT_GRACE_SECONDS} s to close them, then detaches the rest. If the
 * JVM dies abruptly, the kernel ends the FUSE connection and the mountpoint shows "Transport
 * endpoint is not connected" until {@link #unmountStale(Path)} is called on it (the compute
 * manager does so at the next start).
 *
 * <p>Thread-safety: {@link #close()} is idempotent and safe from any thread.
 */
public final class FuseMount implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(FuseMount.class.getName());

    /** How long the FUSE loop gets to end after the unmount before we detach it forcibly. */
    private static final long LOOP_EXIT_MILLIS = 15_000;
    private static final String FUSERMOUNT = "fusermount3";
    private static final int EXIT_GRACE_SECONDS = 20;

    /** Mounts not closed yet, detached at JVM exit if their owners do not close them in time. */
    private static final Set<FuseMount> OPEN = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("fuse-mounts-at-exit")
                    .unstarted(FuseMount::detachAtExit));
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: nothing will be mounted any more
        }
    }

    private final Timeline timeline;
    private final Path mountpoint;
    private final Fuse fuse;
    private boolean closed;

    private FuseMount(Timeline timeline, Path mountpoint, Fuse fuse) {
        this.timeline = timeline;
        this.mountpoint = mountpoint;
        this.fuse = fuse;
    }

    /**
     * Mounts {@code timeline} on {@code mountpoint} (created if absent, must be empty and not
     * already a mount) and returns once the kernel serves it.
     *
     * @throws IOException if the mount fails (no /dev/fuse, busy mountpoint, missing libfuse3)
     */
    public static FuseMount mount(Timeline timeline, Path mountpoint, MountOptions options) throws IOException {
        return mount(timeline, mountpoint, options, null);
    }

    /** As above, counting every request the mount answers in {@code requests} (null: none). */
    public static FuseMount mount(Timeline timeline, Path mountpoint, MountOptions options, FuseRequests requests)
            throws IOException {
        Objects.requireNonNull(timeline, "timeline");
        Objects.requireNonNull(options, "options");
        Files.createDirectories(mountpoint);
        Path target = mountpoint.toRealPath();
        if (MountTable.isMounted(target)) {
            throw new IOException(target + " is already a mount point");
        }
        try (var children = Files.list(target)) {
            if (children.findAny().isPresent()) {
                throw new IOException(target + " is not empty; refusing to mount over files");
            }
        }
        Path library;
        FuseBuilder builder;
        try {
            library = Libfuse.path();
            builder = Fuse.builder();
        } catch (IllegalStateException | UnsupportedOperationException e) {
            throw new IOException("FUSE is not available: " + e.getMessage(), e);
        }
        builder.setLibraryPath(library.toString());
        TimelineFilesystem filesystem = new TimelineFilesystem(timeline, options, FuseContext.bind(library),
                builder.errno());
        Fuse fuse;
        try {
            fuse = builder.build(requests == null ? filesystem : new CountingOperations(filesystem, requests));
        } catch (UnsatisfiedLinkError e) {
            throw new IOException("cannot load " + library + ": " + e.getMessage(), e);
        }
        try {
            fuse.mount("pgbranch", target, arguments(timeline, options));
        } catch (FuseMountFailedException | RuntimeException e) {
            closeQuietly(fuse);
            throw new IOException("mounting timeline " + timeline.id() + " on " + target + " failed: "
                    + e.getMessage(), e);
        }
        LOG.log(Level.DEBUG, () -> "mounted timeline " + timeline.id() + " on " + target);
        FuseMount mount = new FuseMount(timeline, target, fuse);
        OPEN.add(mount);
        return mount;
    }

    private static String[] arguments(Timeline timeline, MountOptions options) {
        List<String> mountOptions = new ArrayList<>(List.of(
                "fsname=pgbranch-" + timeline.id(),
                "subtype=pgbranch",
                "kernel_cache",
                "attr_timeout=86400",
                "entry_timeout=86400",
                "negative_timeout=86400",
                "default_permissions"));
        if (options.allowOther()) {
            mountOptions.add("allow_other");
        }
        return new String[] {"-o", String.join(",", mountOptions)};
    }

    public Path mountpoint() {
        return mountpoint;
    }

    public Timeline timeline() {
        return timeline;
    }

    /** Whether the mountpoint is in the kernel's mount table right now. */
    public boolean isMounted() throws IOException {
        return MountTable.isMounted(mountpoint);
    }

    /** Whether anything is mounted on {@code mountpoint} (e.g. left by a crashed server). */
    public static boolean isMountPoint(Path mountpoint) throws IOException {
        return MountTable.isMounted(mountpoint.toAbsolutePath().normalize());
    }

    /**
     * Detaches whatever FUSE mount is on {@code mountpoint} ({@code fusermount3 -uz}), e.g. the
     * dead mount of a crashed server. No-op if nothing is mounted there.
     */
    public static void unmountStale(Path mountpoint) throws IOException {
        Path target = mountpoint.toAbsolutePath().normalize();
        if (!MountTable.isMounted(target)) {
            return;
        }
        lazyUnmount(target);
        if (MountTable.isMounted(target)) {
            throw new IOException("could not unmount " + target);
        }
    }

    /** Unmounts; see the class comment. Idempotent; never leaves the mountpoint mounted. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        Thread closer = Thread.ofPlatform().name("fuse-unmount " + mountpoint).daemon().start(() -> {
            try {
                fuse.close();
            } catch (TimeoutException e) {
                LOG.log(Level.WARNING, "FUSE loop of " + mountpoint + " still running after unmount; "
                        + "files are probably still open");
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "unmounting " + mountpoint + " failed", e);
            }
        });
        boolean loopEnded = join(closer, LOOP_EXIT_MILLIS);
        if (MountTable.isMounted(mountpoint)) {
            lazyUnmount(mountpoint);
        }
        if (!loopEnded) {
            // Detached now: the loop ends when the last open file on the mount is closed.
            join(closer, 2_000);
        }
        if (MountTable.isMounted(mountpoint)) {
            throw new IOException("could not unmount " + mountpoint);
        }
        LOG.log(Level.DEBUG, () -> "unmounted " + mountpoint);
    }

    /** Shutdown hook: other hooks (the server's) close their mounts first; stragglers are detached. */
    private static void detachAtExit() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(EXIT_GRACE_SECONDS);
        while (!OPEN.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                break;
            }
        }
        for (FuseMount mount : OPEN) {
            try {
                if (MountTable.isMounted(mount.mountpoint)) {
                    lazyUnmount(mount.mountpoint);
                }
            } catch (IOException | RuntimeException e) {
                System.err.println("pgbranch: could not unmount " + mount.mountpoint + " at exit: " + e.getMessage());
            }
        }
    }

    private static boolean join(Thread thread, long millis) {
        try {
            return thread.join(java.time.Duration.ofMillis(millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Deletes the spill directories (temporary files of queries) that mounts left in
     * {@code directory} when their process died: the mounts are gone, so is what they spilled.
     */
    public static void deleteSpillLeftovers(Path directory) throws IOException {
        LocalOverlay.deleteScratchLeftovers(directory);
    }

    private static void lazyUnmount(Path mountpoint) throws IOException {
        Result result = run(List.of(FUSERMOUNT, "-u", "-z", mountpoint.toString()), UNMOUNT_TIMEOUT);
        if (result.exitCode() != 0 && MountTable.isMounted(mountpoint)) {
            throw new IOException(FUSERMOUNT + " -uz " + mountpoint + " failed: " + result.output());
        }
    }

    private static final Duration UNMOUNT_TIMEOUT = Duration.ofSeconds(30);

    /** What a helper command exited with and printed (stdout and stderr together). */
    record Result(int exitCode, String output) {
    }

    /**
     * Runs a helper command with a deadline. Its output goes to a file, not a pipe, and is read
     * only once it has exited: reading a pipe first would block for as long as the command runs
     * (a hung fusermount on a dead mount), so the deadline could never fire.
     *
     * @throws IOException if it does not exit within {@code timeout} (it is killed) or cannot run
     */
    static Result run(List<String> command, Duration timeout) throws IOException {
        Path output = Files.createTempFile("pgbranch-command", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    throw new IOException(String.join(" ", command) + " did not finish within " + timeout.toMillis()
                            + " ms; killed it");
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + String.join(" ", command), e);
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8).trim());
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static void closeQuietly(Fuse fuse) {
        try {
            fuse.close();
        } catch (TimeoutException | RuntimeException e) {
            LOG.log(Level.WARNING, "cleaning up a failed mount", e);
        }
    }
}
