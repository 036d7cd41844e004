package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;

/**
 * Base of the commands that talk to a server: options, the client, and output of branches as
 * tables or JSON. Subclasses implement {@link #run(ApiClient)}.
 */
abstract class ClientCommand implements Callable<Integer> {

    @Mixin
    ClientOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() {
        run(options.client());
        return 0;
    }

    abstract void run(ApiClient client);

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    String branchPath(String branch) {
        return ApiClient.branchPath(options.project, branch);
    }

    void printJson(JsonNode node) {
        try {
            out().println(ApiClient.JSON.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node));
            out().flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One branch: JSON, or one "field: value" line per field. */
    void printBranch(JsonNode branch) {
        printFields(branch);
    }

    /**
     * One object: JSON, or a FIELD / VALUE table; byte counts ({@code ...Bytes}) also in human
     * units, nested objects as {@code key value, key value}.
     */
    void printFields(JsonNode object) {
        if (options.json()) {
            printJson(object);
            return;
        }
        Table table = new Table("FIELD", "VALUE");
        object.properties().forEach(e -> table.row(e.getKey(), cell(e.getKey(), e.getValue())));
        table.print(out());
    }

    private static String cell(String field, JsonNode value) {
        if (value.isNull()) {
            return null;
        }
        if (value.isObject()) {
            StringBuilder out = new StringBuilder();
            value.properties().forEach(e -> {
                if (!e.getValue().isNull()) {
                    out.append(out.isEmpty() ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue().asText());
                }
            });
            return out.toString();
        }
        if (field.endsWith("Bytes") && value.isIntegralNumber()) {
            return Bytes.human(value.asLong()) + " (" + value.asLong() + ")";
        }
        return value.asText();
    }

    /** A list of branches: JSON ({"branches": [...]}), or a table. */
    void printBranches(JsonNode list) {
        if (options.json()) {
            printJson(list);
            return;
        }
        // EXCLUSIVE: what deleting the branch frees; SHARED: what it reads that others need too;
        // PENDING: written, not yet in a layer file (counted in neither until flushed).
        Table table = new Table("NAME", "PARENT", "PROTECTED", "PORT", "COMPUTE", "PARENT LSN", "HEAD LSN", "EXCLUSIVE",
                "SHARED", "PENDING", "CREATED");
        long exclusive = 0;
        long pending = 0;
        boolean known = true;
        for (JsonNode b : list.path("branches")) {
            table.row(b.path("name").asText(), text(b, "parent"), b.path("protected").asBoolean() ? "yes" : "no",
                    b.path("port").asInt(), b.path("computeState").asText(), text(b, "parentLsn"),
                    text(b, "headLsn"), bytes(b, "exclusiveBytes"), bytes(b, "sharedBytes"), bytes(b, "pendingBytes"),
                    seconds(b.path("createdAt").asText()));
            known &= b.path("exclusiveBytes").isIntegralNumber() && b.path("pendingBytes").isIntegralNumber();
            exclusive += b.path("exclusiveBytes").asLong();
            pending += b.path("pendingBytes").asLong();
        }
        table.print(out());
        if (known && !list.path("branches").isEmpty()) {
            out().println("exclusive " + Bytes.human(exclusive) + ", pending " + Bytes.human(pending)
                    + "; 'pgbranch project show' has the project's total");
            out().flush();
        }
    }

    /** An ISO instant to whole seconds for a table column; anything else as it is. */
    private static String seconds(String instant) {
        try {
            return Instant.parse(instant).truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (DateTimeParseException e) {
            return instant;
        }
    }

    /** A byte count in human units, {@code null} (shown as -) when the server could not tell. */
    private static String bytes(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || !value.isIntegralNumber() ? null : Bytes.human(value.asLong());
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
