package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A small client of the management API for the CLI: JSON in, JSON out, errors turned into
 * {@link CliException}s carrying the server's message.
 *
 * <p>Thread-safe (immutable; each call its own connection); one instance per CLI invocation.
 */
final class ApiClient {

    static final ObjectMapper JSON = JsonMapper.builder().build();

    /** Long enough for a compute start (mount + Postgres recovery) behind a request. */
    private static final int REQUEST_TIMEOUT_MILLIS = 5 * 60 * 1000;
    private static final int CONNECT_TIMEOUT_MILLIS = 5 * 1000;

    private final String baseUrl;
    private final String token;

    ApiClient(String baseUrl, String token) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.token = token;
    }

    /** {@code /v1/projects/{p}} with the name percent-encoded. */
    static String projectPath(String project) {
        return "/v1/projects/" + encode(project);
    }

    /** {@code /v1/projects/{p}/branches[/{b}]} with both names percent-encoded. */
    static String branchPath(String project, String branch) {
        String path = "/v1/projects/" + encode(project) + "/branches";
        return branch == null ? path : path + "/" + encode(branch);
    }

    /** Percent-encodes everything but RFC 3986 unreserved characters, so '/' becomes %2F. */
    static String encode(String segment) {
        StringBuilder out = new StringBuilder();
        for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return out.toString();
    }

    JsonNode get(String path) {
        return send("GET", path, null);
    }

    JsonNode post(String path, JsonNode body) {
        return send("POST", path, body);
    }

    JsonNode patch(String path, JsonNode body) {
        return send("PATCH", path, body);
    }

    JsonNode delete(String path) {
        return send("DELETE", path, null);
    }

    private JsonNode send(String method, String path, JsonNode body) {
        try {
            byte[] payload = body == null ? null : JSON.writeValueAsBytes(body);
            LoopbackHttp.Response response = LoopbackHttp.exchange(URI.create(baseUrl + path), method, token, payload,
                    CONNECT_TIMEOUT_MILLIS, REQUEST_TIMEOUT_MILLIS);
            JsonNode json = response.body().isEmpty() ? JSON.createObjectNode() : parse(response.body());
            if (response.status() >= 400) {
                JsonNode error = json.path("error");
                String message = error.path("message").asText("HTTP " + response.status());
                throw new CliException(CliException.REFUSED, message, response.body());
            }
            return json;
        } catch (ConnectException e) {
            throw new CliException(CliException.UNREACHABLE, "cannot reach the pgbranch server at " + baseUrl
                    + " (" + e.getMessage() + "); is it running?");
        } catch (IOException e) {
            throw new CliException(CliException.UNREACHABLE, "request to " + baseUrl + path + " failed: " + e);
        }
    }

    private JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (JacksonException e) {
            throw new CliException(CliException.UNREACHABLE, "the server at " + baseUrl
                    + " did not answer JSON; is it a pgbranch server? (" + e.getOriginalMessage() + ")");
        }
    }
}
