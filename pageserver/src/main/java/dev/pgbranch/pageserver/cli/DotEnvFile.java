package dev.pgbranch.pageserver.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sets one variable in an application's {@code .env} file and leaves every other line as it was
 * (comments, blank lines, order, other variables, line endings of the untouched lines).
 *
 * <p>Lines {@code NAME=...} and {@code export NAME=...} are the variable's own: each gets the new
 * value, keeping its {@code export} prefix and its quote character. If there is none, one line is
 * appended. A missing file is created 0600 (it holds a password); an existing file keeps its
 * permissions. The new content is written to a temporary file beside it, fsynced and renamed over
 * it, so a crash leaves the old file or the new one, never half of one.
 *
 * <p>Stateless.
 */
final class DotEnvFile {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private DotEnvFile() {
    }

    /** What {@link #set} did. */
    enum Change { CREATED, UPDATED, APPENDED, UNCHANGED }

    /** Sets {@code name} to {@code value} in {@code file}. */
    static Change set(Path file, String name, String value) throws IOException {
        Pattern own = Pattern.compile("^(\\s*(?:export\\s+)?" + Pattern.quote(name) + "\\s*=\\s*)(['\"]?)(.*?)\\2(\\s*)$");
        if (!Files.exists(file)) {
            write(file, name + "=" + value + "\n", OWNER_ONLY);
            return Change.CREATED;
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        boolean found = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            boolean cr = line.endsWith("\r");
            Matcher m = own.matcher(cr ? line.substring(0, line.length() - 1) : line);
            if (m.matches()) {
                found = true;
                lines.set(i, m.group(1) + m.group(2) + value + m.group(2) + m.group(4) + (cr ? "\r" : ""));
            }
        }
        String updated;
        if (found) {
            updated = String.join("\n", lines);
        } else {
            updated = text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + name + "=" + value + "\n";
        }
        if (updated.equals(text)) {
            return Change.UNCHANGED;
        }
        write(file, updated, Files.getPosixFilePermissions(file));
        return found ? Change.UPDATED : Change.APPENDED;
    }

    private static void write(Path file, String content, Set<PosixFilePermission> permissions) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            Files.writeString(temporary, content, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(temporary, permissions);
            try (var channel = java.nio.channels.FileChannel.open(temporary, java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
