package dev.pgbranch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StartupRouterTest {

    private static PgMessage.StartupMessage startup(int minor, String... kv) {
        return new PgMessage.StartupMessage(3, minor, RawPgClient.params(kv));
    }

    @Test
    void branchTokenInOptionsRoutesAndIsRemovedBeforeForwarding() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "options", "branch=dev/alex"), null, null);
        assertEquals("dev/alex", r.branch());
        assertFalse(r.forwarded().parameters().containsKey("options"));
        assertNull(r.negotiation());
    }

    @Test
    void otherOptionsSurviveWithTheirEscapes() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "options",
                "-c search_path=a\\ b --branch=dev/x -c statement_timeout=5s"), null, null);
        assertEquals("dev/x", r.branch());
        assertEquals("-c search_path=a\\ b -c statement_timeout=5s", r.forwarded().parameters().get("options"));
    }

    @Test
    void databaseIsSplitAtTheFirstAtSignSoTheBranchKeepsItsPointInTime() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "database", "postgres@dev/alex@2026-11-20T10:00:00Z"), null, null);
        assertEquals("dev/alex@2026-11-20T10:00:00Z", r.branch());
        assertEquals("postgres", r.forwarded().parameters().get("database"));
        var lsn = StartupRouter.route(startup(0, "user", "u", "database", "@dev/alex@0/16B3748"), null, null);
        assertEquals("dev/alex@0/16B3748", lsn.branch());
        assertEquals("u", lsn.forwarded().parameters().get("database"));
    }

    @Test
    void pointInTimeInOptionsIsPartOfTheBranchToken() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "options", "branch=dev/alex@0/16B3748"), null, null);
        assertEquals("dev/alex@0/16B3748", r.branch());
        assertFalse(r.forwarded().parameters().containsKey("options"));
    }

    @Test
    void dashCBranchFormIsAccepted() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "options", "-c branch=feature"), null, null);
        assertEquals("feature", r.branch());
        assertFalse(r.forwarded().parameters().containsKey("options"));
    }

    @Test
    void databaseAtBranchRoutesAndTheComputeSeesOnlyTheDatabase() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "database", "app@dev/alex"), null, null);
        assertEquals("dev/alex", r.branch());
        assertEquals("app", r.forwarded().parameters().get("database"));
    }

    @Test
    void firstSniLabelRoutesWhenNothingElseNamesABranch() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "database", "app"), null, "feature.db.example.com");
        assertEquals("feature", r.branch());
        assertEquals("app", r.forwarded().parameters().get("database"));
    }

    @Test
    void optionsWinOverDatabaseAndSni() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "database", "app@other", "options", "branch=main"), null,
                "sni.example.com");
        assertEquals("main", r.branch());
        assertEquals("app@other", r.forwarded().parameters().get("database"));
    }

    @Test
    void branchPortIgnoresDatabaseSuffixAndRejectsAConflictingOption() throws Exception {
        var r = StartupRouter.route(startup(0, "user", "u", "database", "mail@example"), "main", null);
        assertEquals("main", r.branch());
        assertEquals("mail@example", r.forwarded().parameters().get("database"));
        var e = assertThrows(StartupRouter.RouteException.class,
                () -> StartupRouter.route(startup(0, "user", "u", "options", "branch=other"), "main", null));
        assertEquals("3D000", e.error().sqlState());
    }

    @Test
    void noBranchAnywhereIs3D000WithAHint() {
        var e = assertThrows(StartupRouter.RouteException.class,
                () -> StartupRouter.route(startup(0, "user", "u", "database", "app"), null, null));
        assertEquals("3D000", e.error().sqlState());
        assertTrue(e.error().message().contains("options=branch="), e.error().message());
    }

    @Test
    void missingUserIs28000() {
        var e = assertThrows(StartupRouter.RouteException.class,
                () -> StartupRouter.route(startup(0, "database", "app@main"), null, null));
        assertEquals("28000", e.error().sqlState());
    }

    @Test
    void newerMinorAndProtocolOptionsAreNegotiatedDownTo30() throws Exception {
        var r = StartupRouter.route(startup(2, "user", "u", "_pq_.test_option", "1", "options", "branch=b"), null, null);
        assertEquals(0, r.forwarded().minorVersion());
        assertFalse(r.forwarded().parameters().containsKey("_pq_.test_option"));
        assertEquals(0, r.negotiation().newestMinorSupported());
        assertEquals(List.of("_pq_.test_option"), r.negotiation().unsupportedOptions());
    }
}
