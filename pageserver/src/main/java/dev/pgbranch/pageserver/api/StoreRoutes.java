package dev.pgbranch.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.pgbranch.pageserver.branch.Quarantine;
import dev.pgbranch.pageserver.catalog.Project;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreReport;
import dev.pgbranch.storage.TimelineId;

import java.io.IOException;
import java.util.List;

/**
 * The store routes of the management API, over {@link Quarantine}:
 *
 * <pre>
 * GET    /v1/store/quarantine                     {"timelines": [{timeline, ancestor, ancestorLsn,
 *                                                 ancestorBranch, children, ownBytes, pendingBytes,
 *                                                 lastLsn, lastWrite}]}
 * POST   /v1/store/quarantine/{timeline}/adopt    {"as": "dev/alex", "project"?, "parent"?}: 201, the new branch
 * DELETE /v1/store/quarantine/{timeline}          purge: deletes the timeline from the store, 204
 * POST   /v1/store/verify                         reads and checks every layer value, the manifest and
 *                                                 every ingest log record: {"sound", "findings": [{file,
 *                                                 offset, problem}], "damaged": [{timeline, reason}],
 *                                                 "keptAside": [file], counts}; changes nothing
 * </pre>
 *
 * Refusals come as {@link dev.pgbranch.pageserver.branch.BranchException}s, which the API
 * server answers like any other (404 not in quarantine, 409 has children or the name exists).
 *
 * <p>Thread-safe (stateless besides the quarantine).
 */
public final class StoreRoutes {

    /** An answer: status and JSON body (null for none), or the methods allowed when the method was not. */
    record Answer(int status, JsonNode body, String allowed) {
    }

    private final Quarantine quarantine;
    private final PageStore store;

    public StoreRoutes(Quarantine quarantine, PageStore store) {
        this.quarantine = quarantine;
        this.store = store;
    }

    static boolean handles(List<String> path) {
        return path.size() >= 3 && path.get(0).equals("v1") && path.get(1).equals("store")
                && (path.get(2).equals("quarantine") || path.get(2).equals("verify"));
    }

    /** The answer to a {@link #handles handled} path, or null for an unknown route. */
    Answer answer(HttpExchange exchange, List<String> path) throws IOException {
        String method = exchange.getRequestMethod();
        if (path.get(2).equals("verify")) {
            if (path.size() != 3) {
                return null;
            }
            return method.equals("POST") ? new Answer(200, verifyJson(store.verify()), null) : allow("POST");
        }
        if (path.size() == 3) {
            return method.equals("GET") ? new Answer(200, listJson(quarantine.list()), null) : allow("GET");
        }
        String timeline = path.get(3);
        if (path.size() == 4) {
            if (!method.equals("DELETE")) {
                return allow("DELETE");
            }
            quarantine.purge(timeline);
            return new Answer(204, null, null);
        }
        if (path.size() == 5 && path.get(4).equals("adopt")) {
            if (!method.equals("POST")) {
                return allow("POST");
            }
            JsonNode body = ApiServer.body(exchange);
            String project = ApiServer.text(body, "project", false);
            return new Answer(201, ApiServer.branchJson(quarantine.adopt(timeline,
                    project == null ? Project.DEFAULT : project, ApiServer.text(body, "as", true),
                    ApiServer.text(body, "parent", false))), null);
        }
        return null;
    }

    private static ObjectNode verifyJson(StoreReport report) {
        ObjectNode node = ApiServer.JSON.createObjectNode();
        node.put("sound", report.sound());
        ArrayNode findings = node.putArray("findings");
        for (StoreReport.Finding f : report.findings()) {
            findings.addObject().put("file", f.file().toString()).put("offset", f.offset()).put("problem", f.problem());
        }
        ArrayNode damaged = node.putArray("damaged");
        report.quarantined().forEach((id, reason) -> damaged.addObject().put("timeline", id.toString()).put("reason", reason));
        ArrayNode kept = node.putArray("keptAside");
        report.quarantineFiles().forEach(p -> kept.add(p.toString()));
        node.put("layerFilesChecked", report.layerFilesChecked());
        node.put("valuesChecked", report.valuesChecked());
        node.put("logRecordsChecked", report.logRecordsChecked());
        node.put("logBytesChecked", report.logBytesChecked());
        return node;
    }

    private static Answer allow(String methods) {
        return new Answer(405, null, methods);
    }

    private static ObjectNode listJson(List<Quarantine.Entry> entries) {
        ObjectNode node = ApiServer.JSON.createObjectNode();
        ArrayNode array = node.putArray("timelines");
        for (Quarantine.Entry e : entries) {
            ObjectNode t = array.addObject();
            t.put("timeline", e.timeline().toString());
            t.put("ancestor", e.ancestor() == null ? null : e.ancestor().toString());
            t.put("ancestorLsn", e.ancestor() == null ? null : Lsn.format(e.ancestorLsn()));
            t.put("ancestorBranch", e.ancestorBranch());
            ArrayNode children = t.putArray("children");
            e.children().stream().map(TimelineId::toString).forEach(children::add);
            t.put("ownBytes", e.ownBytes() < 0 ? null : e.ownBytes());
            t.put("pendingBytes", e.pendingBytes() < 0 ? null : e.pendingBytes());
            t.put("lastLsn", Lsn.format(e.lastLsn()));
            t.put("lastWrite", e.lastWrite() == null ? null : e.lastWrite().toString());
        }
        return node;
    }
}
