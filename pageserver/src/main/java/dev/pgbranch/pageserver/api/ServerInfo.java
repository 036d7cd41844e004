package dev.pgbranch.pageserver.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pgbranch.pageserver.catalog.DurableFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where a running server and its wire proxy can be reached, written to {@code <data-dir>/server.json} once its API
 * listens, deleted on clean shutdown. CLI commands given {@code --data-dir} read it to find
 * the API. After a crash (kill -9) the file stays behind; its {@code pid} lets the CLI tell a
 * dead server from an unreachable one.
 *
 * <pre>
 * { "api": "http://127.0.0.1:8432",   base URL of the management API
 *   "apiPort": 8432,
   "proxyPort": 6432,                the wire proxy's routing port
 *   "pid": 12345,                     the server's process id
 *   "startedAt": "2026-11-24T05:30:00Z",
 *   "dataDirectory": "/abs/path" }
 * </pre>
 *
 * @param api base URL, no trailing slash
 * @param proxyPort the routing port (0 in files of servers older than the proxy)
 */
public record ServerInfo(String api, int apiPort, int proxyPort, long pid, String startedAt, String dataDirectory) {

    /** The file's name in the data directory. */
    public static final String FILE_NAME = "server.json";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public void write(Path dataDirectory) throws IOException {
        DurableFiles.replace(dataDirectory.resolve(FILE_NAME), JSON.writeValueAsBytes(this));
    }

    /** Reads the file of {@code dataDirectory}; a clear {@link IOException} if absent or unreadable. */
    public static ServerInfo read(Path dataDirectory) throws IOException {
        Path file = dataDirectory.resolve(FILE_NAME);
        try {
            return JSON.readValue(Files.readAllBytes(file), ServerInfo.class);
        } catch (NoSuchFileException e) {
            throw new IOException("no pgbranch server is running on data directory " + dataDirectory
                    + " (no " + FILE_NAME + "); start one with: pgbranch server --data-dir " + dataDirectory, e);
        } catch (JacksonException e) {
            throw new IOException(file + " is unreadable (" + e.getOriginalMessage() + "); is the server starting?", e);
        }
    }

    /** Deletes the file if it still describes this process. */
    public static void delete(Path dataDirectory, long pid) {
        try {
            ServerInfo info = read(dataDirectory);
            if (info.pid() == pid) {
                Files.deleteIfExists(dataDirectory.resolve(FILE_NAME));
            }
        } catch (IOException e) {
            // Nothing to delete, or unreadable: leave it, the next start replaces it.
        }
    }
}
