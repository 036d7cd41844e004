package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.DurableFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The superuser password of each project, one file {@code <dir>/<project>.password} (mode
 * 0600, the password alone, no newline) in a 0700 directory. Passwords are 192 random bits in
 * URL-safe base64, so they go into connection URIs without escaping. Never logged.
 *
 * <p>Thread-safe (stateless apart from the directory).
 */
public final class ProjectSecrets {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path directory;

    public ProjectSecrets(Path directory) throws IOException {
        this.directory = directory;
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    }

    /**
     * Generates, stores durably and returns a new password for {@code project}; a password file
     * already there (left by the project's earlier life, when its catalog was lost and every
     * timeline quarantined) is kept and returned, so those timelines still accept it.
     */
    public String create(String project) throws IOException {
        if (Files.exists(file(project))) {
            return password(project);
        }
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        DurableFiles.replace(file(project), password.getBytes(StandardCharsets.US_ASCII), DurableFiles.OWNER_ONLY);
        return password;
    }

    /** The stored password of {@code project}. */
    public String password(String project) throws IOException {
        try {
            return Files.readString(file(project), StandardCharsets.US_ASCII).strip();
        } catch (NoSuchFileException e) {
            throw new IOException("the superuser password file of project '" + project + "' is missing: " + file(project), e);
        }
    }

    private Path file(String project) {
        return directory.resolve(project + ".password");
    }
}
