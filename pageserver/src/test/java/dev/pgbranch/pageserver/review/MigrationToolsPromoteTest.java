package dev.pgbranch.pageserver.review;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Promote with real migration tools, as their users run them: Django's {@code manage.py migrate}
 * and Alembic's {@code alembic upgrade} against a branch's port (the connection string
 * {@code pgbranch connect} prints), {@code pgbranch promote}, then the same tool against the
 * parent finds nothing to apply; and when the parent ran a migration of its own meanwhile, both
 * histories are kept and the tool sees both as applied. The projects are under
 * {@code src/test/resources/frameworks}; Django and Alembic come from Debian packages
 * ({@code scripts/setup}).
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MigrationToolsPromoteTest {

    private ServerProcess server;

    @BeforeAll
    void startServer() throws Exception {
        server = new ServerProcess("MigrationToolsPromoteTest");
        server.start();
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private record Run(int code, String output) {
    }

    /** Runs a tool of a project under test resources against {@code branch}; fails unless it exits 0. */
    private Run tool(String project, String branch, String... command) throws Exception {
        Path dir = Path.of(getClass().getResource("/frameworks/" + project).toURI());
        Path python = Files.isExecutable(Path.of("/usr/bin/python3")) ? Path.of("/usr/bin/python3") : Path.of("python3");
        List<String> args = new ArrayList<>(List.of(python.toString()));
        args.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(args).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("PGBRANCH_URL", server.cliOk("connect", branch).strip());
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "timed out: " + args);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " on " + branch + ":\n" + out);
        return new Run(p.exitValue(), out);
    }

    private Run django(String branch, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("manage.py"));
        args.addAll(List.of(command));
        return tool("django", branch, args.toArray(String[]::new));
    }

    private Run alembic(String branch, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("-m", "alembic", "-c", "alembic.ini"));
        args.addAll(List.of(command));
        return tool("alembic", branch, args.toArray(String[]::new));
    }

    @Test
    @Order(1)
    void djangoOnTheParentHasNothingToApplyAfterThePromote() throws Exception {
        server.cliJson("branch", "create", "dev/dj", "--parent", "development");
        django("dev/dj", "migrate", "shop", "0001");

        JsonNode diff = server.cliJson("diff", "dev/dj");
        JsonNode history = diff.path("databases").get(0).path("history");
        assertEquals("public.django_migrations", history.get(0).path("table").asText(), history.toString());
        assertTrue(history.get(0).path("branch").size() >= 14, "contenttypes, auth and shop rows: " + history);
        assertTrue(server.cliOk("diff", "dev/dj").contains("== migration history =="));

        JsonNode promote = server.cliJson("promote", "dev/dj");
        assertTrue(promote.path("verified").asBoolean(), promote.toString());
        assertEquals(history.get(0).path("branch").size(), promote.path("databases").get(0).path("historyRowsCarried").asInt());

        Run again = django("development", "migrate", "shop", "0001");
        assertTrue(again.output().contains("No migrations to apply."), again.output());
        String plan = django("development", "showmigrations", "shop", "auth").output();
        assertTrue(plan.contains("[X] 0001_initial") && !plan.contains("[ ] 0001_initial"), plan);
    }

    @Test
    @Order(2)
    void djangoHistoriesOfBothSidesAreKeptWhenTheParentMigratedMeanwhile() throws Exception {
        server.cliJson("branch", "create", "dev/dj2", "--parent", "development");
        django("dev/dj2", "migrate", "shop", "0002");
        django("development", "migrate", "blog", "0001");

        JsonNode promote = server.cliJson("promote", "dev/dj2");
        assertEquals(1, promote.path("databases").get(0).path("historyRowsCarried").asInt(), promote.toString());

        Run all = django("development", "migrate");
        assertTrue(all.output().contains("No migrations to apply."), all.output());
        String plan = django("development", "showmigrations", "shop", "blog").output();
        assertFalse(plan.contains("[ ]"), plan);
        assertTrue(plan.contains("[X] 0002_order_note"), plan);
    }

    @Test
    @Order(3)
    void alembicOnTheParentFindsBothHeadsAppliedAfterThePromote() throws Exception {
        server.cliJson("branch", "create", "dev/al", "--parent", "development");
        alembic("dev/al", "upgrade", "a1");
        server.cliJson("promote", "dev/al");
        Run same = alembic("development", "upgrade", "a1");
        assertFalse(same.output().contains("Running upgrade"), same.output());

        server.cliJson("branch", "create", "dev/al2", "--parent", "development");
        alembic("dev/al2", "upgrade", "b2");
        alembic("development", "upgrade", "p2");
        String diff = server.cliOk("diff", "dev/al2");
        assertTrue(diff.contains("public.alembic_version (alembic)"), diff);
        JsonNode promote = server.cliJson("promote", "dev/al2");
        assertTrue(promote.path("verified").asBoolean(), promote.toString());

        Run heads = alembic("development", "upgrade", "heads");
        assertFalse(heads.output().contains("Running upgrade"), "b2 and p2 are both applied: " + heads.output());
        String current = alembic("development", "current").output();
        assertTrue(current.contains("b2 (head)") && current.contains("p2 (head)"), current);
    }
}
