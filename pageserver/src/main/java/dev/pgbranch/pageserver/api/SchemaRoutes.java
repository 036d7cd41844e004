package dev.pgbranch.pageserver.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.pgbranch.pageserver.datadiff.DataDiff;
import dev.pgbranch.pageserver.datadiff.DataDiffException;
import dev.pgbranch.pageserver.review.DataReview;
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
 * POST /v1/projects/{p}/branches/{b}/rebase
 *        {"dryRun": bool}: the branch's schema changes and migration history replayed on the
 *        parent's head; answers the rebase report with "backup"
 * GET  /v1/projects/{p}/branches/{b}/data-diff?against=B|B@point&amp;table=T&amp;database=D&amp;format=F
 *        row-level data diff, F = json (default) | table | sql; &amp;limit=N lists at most N rows
 *        per table and list (counts stay complete)
 * POST /v1/projects/{p}/branches/{b}/data-restore
 *        {"at": time or LSN, "table": "T", "database": "D", "dryRun": bool}: the branch's rows
 *        brought back to that point (one transaction per database); answers {"applied",
 *        "statements", "sql", "diff": data diff JSON}
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
    private static final Set<String> REBASE_FIELDS = Set.of("dryRun");
    private static final Set<String> DATA_DIFF_PARAMETERS = Set.of("against", "database", "format", "table", "limit");
    private static final Set<String> RESTORE_FIELDS = Set.of("at", "table", "database", "dryRun");

    /** An HTTP answer: status, body, content type. */
    record Answer(int status, byte[] body, String contentType) {
    }

    private final SchemaReview review;
    private final DataReview data;

    public SchemaRoutes(SchemaReview review, DataReview data) {
        this.review = review;
        this.data = data;
    }

    /** Whether {@code action} (the path after the branch) is one of these routes. */
    static boolean handles(String action) {
        return action.equals("schema-diff") || action.equals("promote") || action.equals("rebase")
                || action.equals("data-diff") || action.equals("data-restore");
    }

    /** Answers {@code action} on {@code branch}; never throws for bad input or refused operations. */
    Answer answer(HttpExchange exchange, String project, String branch, String action) throws IOException {
        String method = exchange.getRequestMethod();
        try {
            if (action.equals("schema-diff") || action.equals("data-diff")) {
                if (!method.equals("GET")) {
                    return methodNotAllowed(exchange, "GET");
                }
                return action.equals("data-diff") ? dataDiff(exchange, project, branch) : diff(exchange, project, branch);
            }
            if (!method.equals("POST")) {
                return methodNotAllowed(exchange, "POST");
            }
            if (action.equals("rebase")) {
                return rebase(exchange, project, branch);
            }
            if (action.equals("data-restore")) {
                return restore(exchange, project, branch);
            }
            return promote(exchange, project, branch);
        } catch (ReviewException e) {
            return error(e.code().httpStatus(), e.code().name(), e.getMessage(), e.sqlState());
        } catch (SchemaException | DataDiffException e) { // DiffFormat.parse, DataDiff.Format.parse
            return error(400, "BAD_REQUEST", e.getMessage(), null);
        }
    }

    private Answer dataDiff(HttpExchange exchange, String project, String branch) throws IOException {
        Map<String, String> query = query(exchange.getRequestURI().getRawQuery(), DATA_DIFF_PARAMETERS);
        DataDiff.Format format = DataDiff.Format.parse(query.getOrDefault("format", "json"));
        DataDiff diff = data.diff(project, branch, query.get("against"), query.get("table"), query.get("database"));
        if (query.get("limit") != null) {
            try {
                diff = diff.withRowLimit(Integer.parseInt(query.get("limit")));
            } catch (NumberFormatException e) {
                throw badRequest("limit must be a number of rows, not '" + query.get("limit") + "'");
            }
        }
        if (format == DataDiff.Format.JSON) {
            return new Answer(200, diff.render(format).getBytes(StandardCharsets.UTF_8), "application/json");
        }
        if (acceptsOnlyJson(exchange)) {
            ObjectNode wrapped = ApiServer.JSON.createObjectNode();
            wrapped.put("format", format.name().toLowerCase(java.util.Locale.ROOT));
            wrapped.put("identical", diff.identical());
            wrapped.put("rendered", diff.render(format));
            return new Answer(200, ApiServer.JSON.writeValueAsBytes(wrapped), "application/json");
        }
        return new Answer(200, diff.render(format).getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8");
    }

    private Answer restore(HttpExchange exchange, String project, String branch) throws IOException {
        JsonNode body = body(exchange);
        checkFields(body, RESTORE_FIELDS);
        DataReview.Restore r = data.restore(project, branch, text(body, "at"), text(body, "table"), text(body, "database"),
                flag(body, "dryRun"));
        ObjectNode out = ApiServer.JSON.createObjectNode();
        out.put("applied", r.applied());
        out.put("statements", r.statements());
        out.put("sql", r.diff().render(DataDiff.Format.SQL));
        out.set("diff", ApiServer.JSON.readTree(r.diff().render(DataDiff.Format.JSON)));
        return new Answer(200, ApiServer.JSON.writeValueAsBytes(out), "application/json");
    }

    private static String text(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw badRequest("field '" + field + "' must be a string");
        }
        return value.textValue();
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

    private Answer rebase(HttpExchange exchange, String project, String branch) throws IOException {
        JsonNode body = body(exchange);
        checkFields(body, REBASE_FIELDS);
        return new Answer(200, review.rebase(project, branch, flag(body, "dryRun")).toJson().getBytes(StandardCharsets.UTF_8),
                "application/json");
    }

    private static void checkFields(JsonNode body, Set<String> known) {
        Iterator<String> names = body.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                throw badRequest("unknown field '" + name + "' (expected " + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private Answer promote(HttpExchange exchange, String project, String branch) throws IOException {
        JsonNode body = body(exchange);
        checkFields(body, PROMOTE_FIELDS);
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
        return query(raw, DIFF_PARAMETERS);
    }

    static Map<String, String> query(String raw, Set<String> known) {
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
            if (!known.contains(name)) {
                throw badRequest("unknown query parameter '" + name + "' (expected "
                        + String.join(", ", known.stream().sorted().toList()) + ")");
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
