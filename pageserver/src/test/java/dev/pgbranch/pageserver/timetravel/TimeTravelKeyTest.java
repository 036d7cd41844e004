package dev.pgbranch.pageserver.timetravel;

import dev.pgbranch.pageserver.branch.RoutingName;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.TimelineId;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimeTravelKeyTest {

    @Test
    void aKeyPrintsAndParsesBackToItself() {
        TimelineId timeline = TimelineId.random();
        TimeTravelKey key = new TimeTravelKey(RoutingName.parse("shop:dev/alex").orElseThrow(), timeline,
                Lsn.parse("0/16B3748"));
        assertEquals("shop:dev/alex@0/16B3748#" + timeline, key.toString());
        assertEquals(Optional.of(key), TimeTravelKey.parse(key.toString()));
        assertTrue(TimeTravel.isKey(key.toString()));
    }

    @Test
    void whatAClientSendsIsNeverAKey() {
        for (String name : new String[] {"dev/alex", "dev/alex@0/16B3748", "dev/alex@2026-11-20T10:00:00Z",
                "dev/alex@0/1#zz", "dev/alex#0123@0/1", "dev//alex@0/1#" + TimelineId.random(), ""}) {
            assertFalse(TimeTravel.isKey(name), name);
        }
        assertFalse(TimeTravel.isKey(null));
    }

    @Test
    void theComputeKeyIsNoBranchsAndDiffersPerTimelineAndLsn() {
        RoutingName name = RoutingName.parse("dev/alex").orElseThrow();
        TimelineId timeline = TimelineId.random();
        String key = new TimeTravelKey(name, timeline, 0x100).computeKey();
        assertEquals("default.dev+alex@0/100#" + timeline, key);
        assertNotEquals(key, new TimeTravelKey(name, timeline, 0x101).computeKey());
        assertNotEquals(key, new TimeTravelKey(name, TimelineId.random(), 0x100).computeKey());
    }
}
