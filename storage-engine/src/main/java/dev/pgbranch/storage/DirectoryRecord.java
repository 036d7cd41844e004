package dev.pgbranch.storage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable directory listing: entries sorted by name (binary compare of the Java strings,
 * which for the names Postgres uses is byte order). Each change copies the arrays, which is
 * cheap at data-directory sizes (a few thousand entries at most) and keeps readers lock-free.
 *
 * <p>Thread-safety: immutable.
 */
final class DirectoryRecord {

    static final DirectoryRecord EMPTY = new DirectoryRecord(new String[0], new long[0], new InodeKind[0]);

    private final String[] names;
    private final long[] inodes;
    private final InodeKind[] kinds;

    DirectoryRecord(String[] names, long[] inodes, InodeKind[] kinds) {
        this.names = names;
        this.inodes = inodes;
        this.kinds = kinds;
    }

    int size() {
        return names.length;
    }

    String name(int i) {
        return names[i];
    }

    long inode(int i) {
        return inodes[i];
    }

    InodeKind kind(int i) {
        return kinds[i];
    }

    /** Index of {@code name}, or a negative insertion point as {@link Arrays#binarySearch}. */
    int find(String name) {
        return Arrays.binarySearch(names, name);
    }

    DirectoryRecord with(String name, long inode, InodeKind kind) {
        int i = find(name);
        if (i >= 0) {
            String[] n = names.clone();
            long[] in = inodes.clone();
            InodeKind[] k = kinds.clone();
            n[i] = name;
            in[i] = inode;
            k[i] = kind;
            return new DirectoryRecord(n, in, k);
        }
        int at = -i - 1;
        int len = names.length;
        String[] n = new String[len + 1];
        long[] in = new long[len + 1];
        InodeKind[] k = new InodeKind[len + 1];
        System.arraycopy(names, 0, n, 0, at);
        System.arraycopy(inodes, 0, in, 0, at);
        System.arraycopy(kinds, 0, k, 0, at);
        n[at] = name;
        in[at] = inode;
        k[at] = kind;
        System.arraycopy(names, at, n, at + 1, len - at);
        System.arraycopy(inodes, at, in, at + 1, len - at);
        System.arraycopy(kinds, at, k, at + 1, len - at);
        return new DirectoryRecord(n, in, k);
    }

    DirectoryRecord without(String name) {
        int i = find(name);
        if (i < 0) {
            return this;
        }
        int len = names.length;
        String[] n = new String[len - 1];
        long[] in = new long[len - 1];
        InodeKind[] k = new InodeKind[len - 1];
        System.arraycopy(names, 0, n, 0, i);
        System.arraycopy(inodes, 0, in, 0, i);
        System.arraycopy(kinds, 0, k, 0, i);
        System.arraycopy(names, i + 1, n, i, len - i - 1);
        System.arraycopy(inodes, i + 1, in, i, len - i - 1);
        System.arraycopy(kinds, i + 1, k, i, len - i - 1);
        return new DirectoryRecord(n, in, k);
    }

    List<DirectoryEntry> entries() {
        List<DirectoryEntry> list = new ArrayList<>(names.length);
        for (int i = 0; i < names.length; i++) {
            list.add(new DirectoryEntry(names[i], inodes[i], kinds[i]));
        }
        return List.copyOf(list);
    }
}
