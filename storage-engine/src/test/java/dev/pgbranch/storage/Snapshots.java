package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** What a namespace shows, as comparable text: every path with its kind, mode, size and content digest. */
final class Snapshots {

    private Snapshots() {
    }

    static Map<String, String> of(Namespace ns) throws IOException {
        Map<String, String> out = new TreeMap<>();
        walk(ns, Namespace.ROOT_INODE, "", out);
        return out;
    }

    /**
     * As {@link #of}, plus the attributes of every inode number up to {@code maxInode}, listed
     * or not: an unlinked inode that came back would show here.
     */
    static Map<String, String> withInodes(Namespace ns, long maxInode) throws IOException {
        Map<String, String> out = of(ns);
        for (long inode = Namespace.ROOT_INODE + 1; inode <= maxInode; inode++) {
            long i = inode;
            ns.attributes(inode).ifPresent(a -> out.put("#" + i, a.kind() + " " + a.size()));
        }
        return out;
    }

    private static void walk(Namespace ns, long dir, String path, Map<String, String> out) throws IOException {
        for (DirectoryEntry e : ns.list(dir)) {
            String p = path + "/" + e.name();
            InodeAttributes a = ns.attributes(e.inode()).orElseThrow(() -> new AssertionError("no attributes: " + p));
            if (a.kind() == InodeKind.DIRECTORY) {
                out.put(p, "dir " + Integer.toOctalString(a.mode()) + " inode " + e.inode());
                walk(ns, e.inode(), p, out);
            } else {
                out.put(p, "file " + Integer.toOctalString(a.mode()) + " inode " + e.inode() + " size " + a.size()
                        + " sha " + digest(ns, e.inode(), a.size()));
            }
        }
    }

    static String digest(Namespace ns, long inode, long size) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        long offset = 0;
        while (offset < size) {
            b.clear();
            int n = ns.read(inode, offset, b);
            if (n <= 0) {
                throw new AssertionError("short read of inode " + inode + " at " + offset + " of " + size);
            }
            md.update(b.array(), 0, n);
            offset += n;
        }
        return HexFormat.of().formatHex(md.digest(), 0, 8);
    }
}
