package dev.pgbranch.pageserver.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.pgbranch.pageserver.review.DiffReport;
import dev.pgbranch.pageserver.review.PromoteReport;
import dev.pgbranch.pageserver.review.ReviewException;
import dev.pgbranch.pageserver.review.SchemaReview;
import dev.pgbranch.pageserver.schema.DiffFormat;
import dev.pgbranch.pageserver.schema.SchemaException;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The schema routes of the management API, over {@link SchemaReview}:
 *
 * <pre>
 * GET  /v1/projects/{p}/branches/{b}/schema-diff?against=B&amp;database=D&amp;format=F
 *        F = side-by-side | unified | json (default) | sql. A text format is answered as
 *        text/plain, or, when the client accepts only JSON, as the JSON report with the text
 *        in "rendered".
 * POST /v1/projects/{p}/branches/{b}/promote
 *        {"dryRun": bool, "force": bool, "database": "D", "concurrentIndexes": bool}, all optional
 * </pre>
 *
 * Errors are {@code {"error": {"code", "message", "sqlState"?}}}: 400 bad input, 404 unknown
 * branch or database, 409 conflict / protected / apply failed / base unavailable, 502
 * introspection failed, 503 a compute did not start, 500 verification failed.
 *
 * <p>Thread-safe (stateless besides the review service).
 */
public final class SchemaRoutes {

    private static final int MAX_BODY_BYTES = 64 * 1024;
    private static final Set<String> DIFF_PARAMETERS = Set.of("against", "database", "format");
    private static final Set<String> PROMOTE_FIELDS = Set.of("dryRun", "force", "database", "concurrentIndexes");

    /** An HTTP answer: status, body, content type. */
    record Answer(int status, byte[] body, String contentType) {
    }

    private final SchemaReview review;

    public SchemaRoutes(SchemaReview review) {
        this.review = review;
    }

    /** Whether {@code action} (the path after the branch) is one of these routes. */
    static boolean handles(String action) {
        return action.equals("schema-diff") || action.equals("promote");
    }

    /** Answers {@code action} on {@code branch}; never throws for bad input or refused operations. */
    Answer answer(HttpExchange exchange, String project, String branch, String action) throws IOException {
        String method = exchange.getRequestMethod();
        try {
            if (action.equals("schema-diff")) {
                if (!method.equals("GET")) {
                    return methodNotAllowed(exchange, "GET");
                }
                return diff(exchange, project, branch);
            }
            if (!method.equals("POST")) {
                return methodNotAllowed(exchange, "POST");
            }
            return promote(exchange, project, branch);
        } catch (ReviewException e) {
            return error(e.code().httpStatus(), e.code().name(), e.getMessage(), e.sqlState());
        } catch (SchemaException e) { // DiffFormat.parse
            return error(400, "BAD_REQUEST", e.getMessage(), null);
        }
    }

    private Answer diff(HttpExchange exchange, String project, String branch) {
        Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        DiffFormat format = query.containsKey("format") ? DiffFormat.parse(query.get("format")) : DiffFormat.JSON;
        DiffReport report = review.diff(project, branch, query.get("against"), query.get("database"));
        if (format == DiffFormat.JSON || acceptsOnlyJson(exchange)) {
            return new Answer(200, report.toJson(format).getBytes(StandardCharsets.UTF_8), "application/json");
        }
        return new Answer(200, report.render(format).getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8");
    }

    private Answer promote(HttpExchange exchange, String project, String branch) throws IOException {
        JsonNode body = body(exchange);
        Iterator<String> names = body.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!PROMOTE_FIELDS.contains(name)) {
                throw badRequest("unknown field '" + name + "' (expected " + String.join(", ", PROMOTE_FIELDS.stream().sorted().toList()) + ")");
            }
        }
        SchemaReview.PromoteOptions options = new SchemaReview.PromoteOptions(flag(body, "dryRun"), flag(body, "force"),
                flag(body, "concurrentIndexes"));
        JsonNode database = body.get("database");
        if (database != null && !database.isNull() && !database.isTextual()) {
            throw badRequest("field 'database' must be a string");
        }
        PromoteReport report = review.promote(project, branch, database == null || database.isNull() ? null
                : database.textValue(), options);
        return new Answer(200, report.toJson().getBytes(StandardCharsets.UTF_8), "application/json");
    }

    private static boolean acceptsOnlyJson(HttpExchange exchange) {
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        return accept != null && accept.contains("application/json") && !accept.contains("text/") && !accept.contains("*/*");
    }

    /** Query parameters, decoded; unknown or repeated ones are bad input (a typo must not be ignored). */
    static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name;
            String value;
            try {
                name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw badRequest("malformed query string: " + e.getMessage());
            }
            if (!DIFF_PARAMETERS.contains(name)) {
                throw badRequest("unknown query parameter '" + name + "' (expected against, database, format)");
            }
            if (out.put(name, value.isEmpty() ? null : value) != null) {
                throw badRequest("query parameter '" + name + "' is given twice");
            }
        }
        return out;
    }

    private static boolean flag(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw badRequest("field '" + field + "' must be true or false");
        }
        return value.booleanValue();
    }

    /** The JSON object body; an empty body means every option at its default. */
    private static JsonNode body(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw badRequest("request body over " + MAX_BODY_BYTES + " bytes");
        }
        if (bytes.length == 0) {
            return ApiServer.JSON.createObjectNode();
        }
        try {
            JsonNode node = ApiServer.JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw badRequest("the request body must be a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw badRequest("the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ReviewException badRequest(String message) {
        return new ReviewException(ReviewException.Code.BAD_REQUEST, message);
    }

    private static Answer methodNotAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        return error(405, "METHOD_NOT_ALLOWED", exchange.getRequestMethod() + " is not allowed here; allowed: " + allowed, null);
    }

    private static Answer error(int status, String code, String message, String sqlState) throws IOException {
        ObjectNode node = ApiServer.JSON.createObjectNode();
        ObjectNode error = node.putObject("error");
        error.put("code", code);
        error.put("message", message);
        if (sqlState != null) {
            error.put("sqlState", sqlState);
        }
        return new Answer(status, ApiServer.JSON.writeValueAsBytes(node), "application/json");
    }
}
