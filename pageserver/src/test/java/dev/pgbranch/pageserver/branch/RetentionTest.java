package dev.pgbranch.pageserver.branch;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetentionTest {

    @Test
    void theFormsTheCliAcceptsAreRead() {
        assertEquals(Duration.ofDays(7), Retention.parse("7d"));
        assertEquals(Duration.ofHours(12), Retention.parse("12h"));
        assertEquals(Duration.ofMinutes(30), Retention.parse("30m"));
        assertEquals(Duration.ofSeconds(90), Retention.parse(" 90s "));
        assertEquals(Duration.ZERO, Retention.parse("0s"));
        assertEquals(Duration.ofHours(8), Retention.parse("PT8H"));
        assertEquals(Duration.ofDays(7), Retention.parse("P7D"));
    }

    @Test
    void garbageNegativeAndHugeWindowsAreBadRequestsSayingWhatIsAccepted() {
        for (String bad : new String[] {"", "  ", "7 days", "-1d", "1w", "d7", "PT-5M", "9999999d", "P36500D"}) {
            BranchException e = assertThrows(BranchException.class, () -> Retention.parse(bad), bad);
            assertEquals(ErrorCode.BAD_REQUEST, e.code(), bad);
            assertTrue(e.getMessage().contains("retention"), e.getMessage());
        }
        assertTrue(assertThrows(BranchException.class, () -> Retention.parse("PT-5M")).getMessage().contains("negative"));
        assertTrue(assertThrows(BranchException.class, () -> Retention.parse("-1d")).getMessage().contains("negative"));
    }

    @Test
    void formatPicksTheLargestExactUnit() {
        assertEquals("7d", Retention.format(Duration.ofDays(7)));
        assertEquals("36h", Retention.format(Duration.ofHours(36)));
        assertEquals("90m", Retention.format(Duration.ofMinutes(90)));
        assertEquals("45s", Retention.format(Duration.ofSeconds(45)));
        assertEquals("0s", Retention.format(Duration.ZERO));
        assertEquals("PT0.5S", Retention.format(Duration.ofMillis(500)));
    }

    @Test
    void formattedWindowsParseBackToTheSameDuration() {
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 2000; i++) {
            long seconds = switch (i % 4) {
                case 0 -> random.nextLong(3650L * 86_400 + 1);
                case 1 -> random.nextLong(3651) * 86_400;
                case 2 -> random.nextLong(87_600) * 3_600;
                default -> random.nextLong(100_000) * 60;
            };
            Duration window = Duration.ofSeconds(seconds);
            assertEquals(window, Retention.parse(Retention.format(window)), Retention.format(window));
        }
    }
}
