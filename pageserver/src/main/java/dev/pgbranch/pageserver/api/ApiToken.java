package dev.pgbranch.pageserver.api;

import dev.pgbranch.pageserver.catalog.DurableFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The bearer token of the management API: 256 random bits in URL-safe base64, generated at the
 * server's first start into {@code <data-dir>/api-token} (mode 0600, the token alone) and kept
 * across restarts, so clients configured once keep working. Never logged.
 *
 * <p>Immutable and thread-safe.
 */
public final class ApiToken {

    /** The token file's name in the data directory. */
    public static final String FILE_NAME = "api-token";

    private final byte[] token;

    private ApiToken(String token) {
        this.token = token.getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads the token from {@code file}, generating and storing one first if the file is absent. */
    public static ApiToken loadOrCreate(Path file) throws IOException {
        if (Files.exists(file)) {
            return load(file);
        }
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        DurableFiles.replace(file, token.getBytes(StandardCharsets.US_ASCII), DurableFiles.OWNER_ONLY);
        return new ApiToken(token);
    }

    /** Reads an existing token file. */
    public static ApiToken load(Path file) throws IOException {
        String token = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (token.isEmpty()) {
            throw new IOException("the API token file " + file + " is empty; delete it and restart the server to generate a new one");
        }
        return new ApiToken(token);
    }

    /** The token, for clients (the CLI) that must send it. */
    public String value() {
        return new String(token, StandardCharsets.US_ASCII);
    }

    /** Checks an {@code Authorization} header value ({@code Bearer <token>}) in constant time. */
    boolean accepts(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] offered = authorization.substring(7).strip().getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(offered, token);
    }

    @Override
    public String toString() {
        return "ApiToken[hidden]";
    }
}
