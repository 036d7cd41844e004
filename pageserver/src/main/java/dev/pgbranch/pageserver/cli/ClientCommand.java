package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
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
        if (options.json()) {
            printJson(branch);
            return;
        }
        Table table = new Table("FIELD", "VALUE");
        branch.properties().forEach(e -> table.row(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
        table.print(out());
    }

    /** A list of branches: JSON ({"branches": [...]}), or a table. */
    void printBranches(JsonNode list) {
        if (options.json()) {
            printJson(list);
            return;
        }
        Table table = new Table("NAME", "PARENT", "PROTECTED", "PORT", "COMPUTE", "PARENT LSN", "HEAD LSN", "CREATED");
        for (JsonNode b : list.path("branches")) {
            table.row(b.path("name").asText(), text(b, "parent"), b.path("protected").asBoolean() ? "yes" : "no",
                    b.path("port").asInt(), b.path("computeState").asText(), text(b, "parentLsn"),
                    text(b, "headLsn"), b.path("createdAt").asText());
        }
        table.print(out());
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
