package dev.pgbranch.pageserver.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiClientTest {

    @Test
    void branchNamesArePercentEncodedAsOneSegment() {
        assertEquals("/v1/projects/default/branches/dev%2Falex", ApiClient.branchPath("default", "dev/alex"));
        assertEquals("a%20b%2B%C3%BC", ApiClient.encode("a b+ü"));
    }

    @Test
    void aBadBranchNameIsAUsageErrorBeforeAnyRequest() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[]{"branch", "show", "../x", "--data-dir", "/nonexistent"},
                new PrintWriter(out), new PrintWriter(err));
        assertEquals(2, code);
        assertTrue(err.toString().contains("'..' segment"), err.toString());
    }

    @Test
    void durationsReadTheWayPeopleTypeThem() {
        assertEquals(java.time.Duration.ofSeconds(90), Durations.parse("90s"));
        assertEquals(java.time.Duration.ofMinutes(30), Durations.parse("30m"));
        assertEquals(java.time.Duration.ofHours(8), Durations.parse("8h"));
        assertEquals(java.time.Duration.ofDays(7), Durations.parse("7d"));
        assertEquals(java.time.Duration.ofHours(8), Durations.parse("PT8H"));
        assertEquals(2, org.junit.jupiter.api.Assertions.assertThrows(CliException.class, () -> Durations.parse("soon")).exitCode());
        assertEquals(2, org.junit.jupiter.api.Assertions.assertThrows(CliException.class, () -> Durations.parse("0s")).exitCode());
    }

    @Test
    void noRunningServerIsExitCodeThreeWithAHint() {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[]{"branch", "list", "--data-dir", "/nonexistent/pgbranch"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(3, code);
        assertTrue(err.toString().contains("pgbranch server --data-dir /nonexistent/pgbranch"), err.toString());
    }
}
