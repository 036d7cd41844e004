package dev.pgbranch.pageserver.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.TimelineId;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The on-disk format of the catalog, {@code <data-dir>/catalog.json} (UTF-8 JSON), kept apart
 * from the catalog's logic:
 *
 * <pre>
 * {
 *   "format": "pgbranch-catalog",          constant, identifies the file
 *   "version": 1,                          readers refuse versions they do not know
 *   "generation": 42,                      +1 at every write (absent in older files: 0); the
 *                                          data directory's catalog.generation holds the highest
 *                                          one written, so an older copy is recognized
 *   "portBase": 55432,                     first branch port
 *   "nextPort": 55434,                     where the next port search starts
 *   "retiredTimelines": ["&lt;32 hex&gt;", ...],   unreferenced timelines still to delete
 *   "quarantinedTimelines": [...],         timelines kept but not served (absent in older files)
 *   "temporaryTimelines": [...],           throwaway computes' timelines (absent in older files)
 *   "projects": [
 *     { "name": "default",
 *       "createdAt": "2026-11-24T05:30:00Z",     ISO-8601 UTC
 *       "retention": "PT168H",                 ISO-8601 duration; absent in files written
 *                                              before it existed, which read as 7 days
 *       "branches": [
 *         { "name": "dev/alex",
 *           "parent": "development",          null for the root branch
 *           "timeline": "&lt;32 hex&gt;",
 *           "createdAt": "2026-11-24T05:31:00Z",
 *           "parentLsn": "0/16B3748",          parent's LSN at branch time, X/Y hex
 *           "protected": false,
 *           "port": 55434,
 *           "expiresAt": null } ] } ]            ISO-8601 UTC, or null: never
 * }
 * </pre>
 *
 * <p>Crash safety: the file is only ever replaced whole through {@link DurableFiles#replace}
 * (temp file, fsync, rename, directory fsync), so after a crash it holds the last completed
 * version. A file that does not parse or breaks an invariant is reported as a
 * {@link CatalogException} naming the file and the problem; it is never silently replaced.
 *
 * <p>Stateless and thread-safe.
 */
final class CatalogFile {

    static final String FORMAT = "pgbranch-catalog";
    static final int VERSION = 1;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private CatalogFile() {
    }

    /** A catalog as read from its file: the state and the generation that wrote it. */
    record Stored(CatalogState state, long generation) {
    }

    static Stored read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length == 0) {
            throw new CatalogException("catalog file " + file + " is empty (truncated?); refusing to start. "
                    + "Restore it from a backup; the branches' data is still in the store directory");
        }
        FileJson json;
        try {
            JsonNode tree = JSON.readTree(bytes);
            if (tree == null || !tree.isObject()) {
                throw new CatalogException("catalog file " + file + " is corrupt (not a JSON object); refusing to start");
            }
            json = JSON.treeToValue(upgrade((ObjectNode) tree), FileJson.class);
        } catch (JacksonException e) {
            throw new CatalogException("catalog file " + file + " is corrupt (" + e.getOriginalMessage()
                    + " at " + location(e) + "); refusing to start rather than lose branches", e);
        }
        if (!FORMAT.equals(json.format())) {
            throw new CatalogException("catalog file " + file + " is not a pgbranch catalog (format '"
                    + json.format() + "')");
        }
        if (json.version() != VERSION) {
            throw new CatalogException("catalog file " + file + " has version " + json.version()
                    + ", this pgbranch reads version " + VERSION);
        }
        if (json.generation() < 0) {
            throw new CatalogException("catalog file " + file + " has a negative generation " + json.generation());
        }
        try {
            return new Stored(toState(json), json.generation());
        } catch (IllegalArgumentException | NullPointerException | DateTimeParseException e) {
            throw new CatalogException("catalog file " + file + " is inconsistent: " + e.getMessage(), e);
        }
    }

    /**
     * Fills in the fields that version-1 files written by earlier releases lack, as explicit
     * nulls, so the strict mapping (every field present) still reads them: a project without
     * {@code retention} gets the default window, a file without {@code generation} is
     * generation 0, one without {@code quarantinedTimelines} has none.
     */
    private static ObjectNode upgrade(ObjectNode tree) {
        if (!tree.has("generation")) {
            tree.put("generation", 0L);
        }
        for (String field : new String[] {"quarantinedTimelines", "temporaryTimelines"}) {
            if (!tree.has(field)) {
                tree.putArray(field);
            }
        }
        JsonNode projects = tree.get("projects");
        if (projects != null && projects.isArray()) {
            for (JsonNode project : projects) {
                if (project instanceof ObjectNode p && !p.has("retention")) {
                    p.putNull("retention");
                }
            }
        }
        return tree;
    }

    static void write(Path file, CatalogState state, long generation) throws IOException {
        DurableFiles.replace(file, JSON.writeValueAsBytes(toJson(state, generation)), DurableFiles.OWNER_ONLY);
    }

    private static String location(JacksonException e) {
        return e.getLocation() == null ? "unknown position"
                : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    private static CatalogState toState(FileJson json) {
        Map<String, Project> projects = new LinkedHashMap<>();
        for (ProjectJson p : require(json.projects(), "projects")) {
            Map<BranchName, Branch> branches = new LinkedHashMap<>();
            for (BranchJson b : require(p.branches(), "branches of project " + p.name())) {
                BranchName name = BranchName.of(b.name());
                Branch branch = new Branch(name, b.parent() == null ? null : BranchName.of(b.parent()),
                        TimelineId.parse(b.timeline()), Instant.parse(require(b.createdAt(), "createdAt of " + name)),
                        Lsn.parse(b.parentLsn()), b.protectedBranch(), b.port(),
                        b.expiresAt() == null ? null : Instant.parse(b.expiresAt()));
                if (branches.put(name, branch) != null) {
                    throw new IllegalArgumentException("branch '" + name + "' listed twice in project " + p.name());
                }
            }
            Project project = new Project(require(p.name(), "project name"),
                    Instant.parse(require(p.createdAt(), "createdAt of project " + p.name())),
                    p.retention() == null ? Project.DEFAULT_RETENTION : parseRetention(p.name(), p.retention()),
                    branches);
            if (projects.put(project.name(), project) != null) {
                throw new IllegalArgumentException("project '" + project.name() + "' listed twice");
            }
        }
        Set<TimelineId> retired = new TreeSet<>();
        for (String id : require(json.retiredTimelines(), "retiredTimelines")) {
            retired.add(TimelineId.parse(id));
        }
        Set<TimelineId> quarantined = new TreeSet<>();
        for (String id : require(json.quarantinedTimelines(), "quarantinedTimelines")) {
            quarantined.add(TimelineId.parse(id));
        }
        Set<TimelineId> temporary = new TreeSet<>();
        for (String id : require(json.temporaryTimelines(), "temporaryTimelines")) {
            temporary.add(TimelineId.parse(id));
        }
        return new CatalogState(json.portBase(), json.nextPort(), projects, retired, quarantined, temporary);
    }

    private static Duration parseRetention(String project, String text) {
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("retention '" + text + "' of project " + project
                    + " is not an ISO-8601 duration like PT168H", e);
        }
    }

    private static <T> T require(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " is missing");
        }
        return value;
    }

    private static FileJson toJson(CatalogState state, long generation) {
        List<ProjectJson> projects = new ArrayList<>();
        for (Project p : state.projects().values()) {
            List<BranchJson> branches = new ArrayList<>();
            for (Branch b : p.branches().values()) {
                branches.add(new BranchJson(b.name().value(), b.parent() == null ? null : b.parent().value(),
                        b.timeline().toString(), b.createdAt().toString(), Lsn.format(b.parentLsn()),
                        b.protectedBranch(), b.port(), b.expiresAt() == null ? null : b.expiresAt().toString()));
            }
            projects.add(new ProjectJson(p.name(), p.createdAt().toString(), p.retention().toString(), branches));
        }
        List<String> retired = state.retiredTimelines().stream().map(TimelineId::toString).toList();
        List<String> quarantined = state.quarantinedTimelines().stream().map(TimelineId::toString).toList();
        List<String> temporary = state.temporaryTimelines().stream().map(TimelineId::toString).toList();
        return new FileJson(FORMAT, VERSION, generation, state.portBase(), state.nextPort(), retired, quarantined,
                temporary, projects);
    }

    record FileJson(String format, int version, long generation, int portBase, int nextPort,
                    List<String> retiredTimelines, List<String> quarantinedTimelines, List<String> temporaryTimelines,
                    List<ProjectJson> projects) {
    }

    record ProjectJson(String name, String createdAt, String retention, List<BranchJson> branches) {
    }

    record BranchJson(String name, String parent, String timeline, String createdAt, String parentLsn,
                      @JsonProperty("protected") boolean protectedBranch, int port, String expiresAt) {
    }
}
