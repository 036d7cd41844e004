package dev.pgbranch.bench.e2e;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connection strings handed out by the API, as the driver gives them to pgjdbc and libpq tools. */
class EndpointTest {

    @Test
    void uriWithEncodedPasswordAndOptionsParsesIntoItsParts() {
        Endpoint e = Endpoint.parse("postgresql://postgres:p%40ss%3Aw%2Frd@127.0.0.1:6432/postgres?options=branch%3Ddev%2Falex");
        assertEquals("127.0.0.1", e.host());
        assertEquals(6432, e.port());
        assertEquals("postgres", e.user());
        assertEquals("p@ss:w/rd", e.password());
        assertEquals("postgres", e.database());
        assertEquals(Map.of("options", "branch=dev/alex"), e.parameters());
    }

    @Test
    void libpqUriNeverCarriesThePasswordAndDefaultsToSslmodeDisable() {
        Endpoint e = Endpoint.parse("postgresql://postgres:secret@127.0.0.1:5999/db1?options=branch%3Ddev%2Falex");
        String uri = e.libpqUri();
        assertFalse(uri.contains("secret"), uri);
        assertEquals("postgresql://postgres@127.0.0.1:5999/db1?options=branch%3Ddev%2Falex&sslmode=disable", uri);
        assertEquals("secret", e.libpqEnvironment().get("PGPASSWORD"));
        assertEquals(uri, e.toString());
    }

    @Test
    void anExplicitSslmodeIsKept() {
        assertTrue(Endpoint.parse("postgresql://u:p@h:1/d?sslmode=require").libpqUri().endsWith("?sslmode=require"));
    }

    @Test
    void missingDatabaseDefaultsToTheUserAndMissingPortTo5432() {
        Endpoint e = Endpoint.parse("postgresql://alice:pw@localhost");
        assertEquals("alice", e.database());
        assertEquals(5432, e.port());
    }

    @Test
    void aNonPostgresUriIsRefused() {
        assertThrows(BenchException.class, () -> Endpoint.parse("http://127.0.0.1:80/x"));
    }

    @Test
    void commandsInMessagesHaveTheirPasswordsMasked() {
        assertEquals(List.of("pgbench", "postgresql://postgres:***@127.0.0.1:1/postgres"),
                Commands.redacted(List.of("pgbench", "postgresql://postgres:hunter2@127.0.0.1:1/postgres")));
    }

    @Test
    void badOptionsAreRefusedWithTheReason() {
        IllegalArgumentException only = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--only", "everything", "--pgbranch", "/bin/true"));
        assertTrue(only.getMessage().contains("--only must be one of"), only.getMessage());
        IllegalArgumentException scales = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--scales", "0", "--pgbranch", "/bin/true"));
        assertTrue(scales.getMessage().contains("scales must be positive"), scales.getMessage());
        IllegalArgumentException number = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--seconds", "ten", "--pgbranch", "/bin/true"));
        assertTrue(number.getMessage().contains("needs a number"), number.getMessage());
        IllegalArgumentException launcher = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--pgbranch", "/nonexistent/pgbranch"));
        assertTrue(launcher.getMessage().contains("not an executable"), launcher.getMessage());
    }

    @Test
    void quickModeChangesTheDefaultsAndExplicitOptionsWin() {
        BenchOptions quick = BenchOptions.parse("--quick", "--pgbranch", "/bin/true");
        assertEquals(List.of(1, 10), quick.scales());
        assertEquals(5, quick.seconds());
        BenchOptions full = BenchOptions.parse("--pgbranch", "/bin/true");
        assertEquals(List.of(1, 10, 30, 60), full.scales());
        assertEquals(30, full.seconds());
        BenchOptions custom = BenchOptions.parse("--quick", "--scales", "5,2", "--seconds", "3", "--only", "tps",
                "--pgbranch", "/bin/true");
        assertEquals(List.of(2, 5), custom.scales());
        assertEquals(3, custom.seconds());
        assertTrue(custom.wants("tps"));
        assertFalse(custom.wants("create"));
    }
}
