package dev.pgbranch.pageserver.catalog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BranchNameTest {

    @ParameterizedTest
    @ValueSource(strings = {"production", "dev/alex", "feature/JIRA-123_fix.v2", "a", "a..b", "ü/ß", "release/2026.11",
            "dev/alex_old_20261124T081500Z", "dev/alex_old_20261124T081500Z_2"})
    void acceptsOrdinaryNamesIncludingSlashes(String name) {
        assertEquals(name, BranchName.of(name).value());
    }

    @Test
    void acceptsExactlySixtyThreeBytes() {
        String name = "x".repeat(63);
        assertEquals(name, BranchName.of(name).value());
    }

    @Test
    void rejectsSixtyFourBytesWithTheLimitInTheMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BranchName.of("x".repeat(64)));
        assertTrue(e.getMessage().contains("64 bytes") && e.getMessage().contains("63"), e.getMessage());
    }

    @Test
    void countsBytesNotCharacters() {
        // 32 x 'é' = 64 bytes in UTF-8 although only 32 characters.
        assertThrows(IllegalArgumentException.class, () -> BranchName.of("é".repeat(32)));
        assertEquals(31, BranchName.of("é".repeat(31)).value().length());
    }

    @Test
    void rejectsEmptyAndNull() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BranchName.of("")).getMessage().contains("empty"));
        assertThrows(IllegalArgumentException.class, () -> BranchName.of(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {" ", "   ", "\t"})
    void rejectsWhitespaceOnly(String name) {
        assertThrows(IllegalArgumentException.class, () -> BranchName.of(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "../x", "dev/../prod", "dev/.", "./dev"})
    void rejectsDotSegments(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BranchName.of(name));
        assertTrue(e.getMessage().contains("segment"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/dev", "dev/", "dev//alex", "/"})
    void rejectsLeadingTrailingAndDoubleSlashes(String name) {
        assertThrows(IllegalArgumentException.class, () -> BranchName.of(name));
    }

    @Test
    void rejectsControlCharactersAndEscapesThemInTheMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BranchName.of("dev\u001b[2Jx"));
        assertTrue(e.getMessage().contains("control character (U+001B)"), e.getMessage());
        assertTrue(!e.getMessage().contains("\u001b"), "the raw escape must not reach a terminal");
        assertThrows(IllegalArgumentException.class, () -> BranchName.of("dev\nalex"));
        assertThrows(IllegalArgumentException.class, () -> BranchName.of("dev\u0000"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev alex", "db@branch", "a;b", "a'b", "a\"b", "a\\b", "a+b", "a%2Fb"})
    void rejectsCharactersThatBreakRoutingOrQuoting(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BranchName.of(name));
        assertTrue(e.getMessage().contains("allowed"), e.getMessage());
    }
}
