package dev.pgbranch.pageserver.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlobalOptionsTest {

    @Test
    void dataDirBeforeOrAfterTheSubcommandNamesTheSameServer() {
        for (String[] args : new String[][] {
                {"--data-dir", "/nonexistent/pgb-a", "branch", "list"},
                {"branch", "list", "--data-dir", "/nonexistent/pgb-a"},
                {"--data-dir=/nonexistent/pgb-a", "connect", "development"},
                {"-o", "json", "--data-dir", "/nonexistent/pgb-a", "branch", "show", "development"}}) {
            StringWriter err = new StringWriter();
            int code = Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(err));
            assertEquals(3, code, String.join(" ", args) + ": " + err);
            assertTrue(err.toString().contains("/nonexistent/pgb-a"), String.join(" ", args) + ": " + err);
        }
    }

    @Test
    void leadingOptionsMoveBehindTheCommandPathAndBeforeADoubleDash() {
        assertArrayEquals(new String[] {"branch", "list", "--data-dir", "D", "-p", "x"},
                GlobalOptions.hoist(new String[] {"--data-dir", "D", "-p", "x", "branch", "list"}));
        assertArrayEquals(new String[] {"connect", "b", "--api=http://h:1", "--", "-weird"},
                GlobalOptions.hoist(new String[] {"--api=http://h:1", "connect", "b", "--", "-weird"}));
        String[] untouched = {"--version"};
        assertArrayEquals(untouched, GlobalOptions.hoist(untouched));
        String[] dangling = {"--data-dir", "D"};
        assertArrayEquals(dangling, GlobalOptions.hoist(dangling));
    }

    @Test
    void anUnknownLeadingOptionIsStillAUsageError() {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"--colour", "branch", "list"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertEquals(2, code, err.toString());
    }
}
