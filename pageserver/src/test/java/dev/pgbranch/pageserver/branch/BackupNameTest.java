package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.BranchName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackupNameTest {

    private static final Instant T = Instant.parse("2026-11-24T08:15:00.734Z");

    @Test
    void theBackupOfABranchIsItsNameWithOldAndTheUtcSecond() {
        assertEquals(BranchName.of("dev/alex_old_20261124T081500Z"), BackupName.of(BranchName.of("dev/alex"), T, n -> false));
    }

    @Test
    void aTakenNameGetsACounter() {
        Set<String> taken = Set.of("dev/alex_old_20261124T081500Z", "dev/alex_old_20261124T081500Z_2");
        assertEquals(BranchName.of("dev/alex_old_20261124T081500Z_3"),
                BackupName.of(BranchName.of("dev/alex"), T, n -> taken.contains(n.value())));
    }

    @Test
    void aLongNameIsShortenedOnACodePointBoundaryAndTheSuffixKept() {
        String longName = "feature/" + "é".repeat(27); // 8 + 54 = 62 bytes
        BranchName backup = BackupName.of(BranchName.of(longName), T, n -> false);
        int bytes = backup.value().getBytes(StandardCharsets.UTF_8).length;
        assertTrue(bytes <= BranchName.MAX_BYTES, backup + " is " + bytes + " bytes");
        assertTrue(backup.value().endsWith("_old_20261124T081500Z"), backup.value());
        assertTrue(longName.startsWith(backup.value().substring(0, backup.value().indexOf("_old_"))), backup.value());
        assertTrue(BackupName.of(BranchName.of("a".repeat(63)), T, n -> false).value().startsWith("a".repeat(42) + "_old_"));
    }
}
