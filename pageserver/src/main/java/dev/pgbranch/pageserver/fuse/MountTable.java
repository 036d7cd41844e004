package dev.pgbranch.pageserver.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the kernel's mount table ({@code /proc/self/mounts}).
 *
 * <pre>
 * one line per mount:  source SP mountpoint SP fstype SP options SP 0 SP 0
 * spaces, tabs, newlines and backslashes in fields are written as \040 \011 \012 \134
 * </pre>
 *
 * <p>Thread-safety: stateless.
 */
final class MountTable {

    private static final Path MOUNTS = Path.of("/proc/self/mounts");

    /** One mount: where, and the filesystem type (e.g. {@code fuse.pgbranch}). */
    record Entry(Path mountpoint, String type) {
    }

    private MountTable() {
    }

    static List<Entry> read() throws IOException {
        List<Entry> entries = new ArrayList<>();
        for (String line : Files.readAllLines(MOUNTS)) {
            String[] fields = line.split(" ");
            if (fields.length >= 3) {
                entries.add(new Entry(Path.of(unescape(fields[1])), fields[2]));
            }
        }
        return entries;
    }

    static boolean isMounted(Path mountpoint) throws IOException {
        Path wanted = mountpoint.toAbsolutePath().normalize();
        for (Entry entry : read()) {
            if (entry.mountpoint().equals(wanted)) {
                return true;
            }
        }
        return false;
    }

    private static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }
}
