package dev.pgbranch.pageserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The permission rule of a data directory, checked at every start before anything is read: it
 * holds every branch's pages (including {@code pg_authid}), the API token and the projects'
 * passwords, so no group or other user may read or write anything in it.
 *
 * <ul>
 *   <li>files: 0600 (owner bits only);
 *   <li>directories: 0700; when computes run as another user (a root server starting them as
 *       {@code postgres}) the directories on their way to the mounts and sockets ({@code .},
 *       {@code run}, {@code run/mnt}, {@code run/sock}, {@code run/tmp}) are 0711: traversable,
 *       never listable or readable.
 * </ul>
 *
 * Entries owned by the server's own user that break the rule (made by an earlier version, or
 * copied with a loose umask) are tightened, with one log line saying how many and which;
 * an entry owned by somebody else that breaks it refuses the start, because it is not the
 * server's to change. Symbolic links are not followed, FUSE mount points (below {@code run/mnt})
 * are not entered.
 *
 * <p>Stateless.
 */
final class DataDirectoryPermissions {

    private static final System.Logger LOG = System.getLogger(DataDirectoryPermissions.class.getName());

    private static final Set<PosixFilePermission> GROUP_OTHER = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    private static final Set<PosixFilePermission> TRAVERSE = EnumSet.of(PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_EXECUTE);
    private static final List<String> TRAVERSED = List.of("", "run", "run/mnt", "run/sock", "run/tmp");

    private DataDirectoryPermissions() {
    }

    /** The mode a directory of the data directory gets: 0711 on the compute user's way when it is another user. */
    static Set<PosixFilePermission> directoryMode(boolean traversable) {
        return PosixFilePermissions.fromString(traversable ? "rwx--x--x" : "rwx------");
    }

    /**
     * Checks every entry under {@code dataDirectory} and tightens what the server's user owns.
     *
     * @param traversable whether the compute user (another user) must traverse the way to the mounts
     * @return how many entries were tightened
     * @throws IOException naming the entry, when one owned by another user is readable or
     *     writable by group or others
     */
    static int enforce(Path dataDirectory, boolean traversable) throws IOException {
        int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        List<String> fixed = new ArrayList<>();
        try {
            Files.walkFileTree(dataDirectory, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    check(dir, true);
                    return dataDirectory.relativize(dir).toString().equals("run/mnt") ? FileVisitResult.SKIP_SUBTREE
                            : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isRegularFile()) {
                        check(file, false);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (Files.isSymbolicLink(file)) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                private void check(Path entry, boolean directory) throws IOException {
                    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(entry, LinkOption.NOFOLLOW_LINKS);
                    String relative = dataDirectory.relativize(entry).toString();
                    Set<PosixFilePermission> allowed = directory && traversable && TRAVERSED.contains(relative)
                            ? TRAVERSE : Set.of();
                    Set<PosixFilePermission> loose = EnumSet.noneOf(PosixFilePermission.class);
                    for (PosixFilePermission p : mode) {
                        if (GROUP_OTHER.contains(p) && !allowed.contains(p)) {
                            loose.add(p);
                        }
                    }
                    if (loose.isEmpty()) {
                        return;
                    }
                    int owner = (Integer) Files.getAttribute(entry, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                    String was = PosixFilePermissions.toString(mode);
                    if (owner != self) {
                        throw new IOException("data directory entry " + entry + " is " + was + ", accessible to other "
                                + "users, and owned by uid " + owner + ", not this server's user: refusing to start. "
                                + "The data directory holds every branch's pages and passwords; make it 0600 (files) "
                                + "/ 0700 (directories), e.g. chmod go-rwx " + entry);
                    }
                    Set<PosixFilePermission> tight = EnumSet.copyOf(mode);
                    tight.removeAll(loose);
                    Files.setPosixFilePermissions(entry, tight);
                    fixed.add((relative.isEmpty() ? "." : relative) + " " + was + " -> "
                            + PosixFilePermissions.toString(tight));
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (!fixed.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "tightened the permissions of {0} entr{1} of {2} that other users "
                    + "could read or write (made by an earlier version or with a loose umask): {3}", fixed.size(),
                    fixed.size() == 1 ? "y" : "ies", dataDirectory,
                    String.join(", ", fixed.subList(0, Math.min(fixed.size(), 5))) + (fixed.size() > 5 ? ", ..." : ""));
        }
        return fixed.size();
    }
}
