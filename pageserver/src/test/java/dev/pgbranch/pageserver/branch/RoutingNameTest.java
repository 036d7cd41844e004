package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.BranchName;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoutingNameTest {

    @Test
    void aPlainNameIsABranchOfTheDefaultProjectAndPrintsBackTheSame() {
        RoutingName name = RoutingName.parse("dev/alex").orElseThrow();
        assertEquals(new RoutingName("default", BranchName.of("dev/alex")), name);
        assertEquals("dev/alex", name.toString());
    }

    @Test
    void aProjectPrefixNamesAnotherProject() {
        RoutingName name = RoutingName.parse("shop:dev/alex").orElseThrow();
        assertEquals("shop", name.project());
        assertEquals("dev/alex", name.branch().value());
        assertEquals("shop:dev/alex", name.toString());
    }

    @Test
    void namesNoBranchCanHaveParseToNothing() {
        for (String bad : new String[] {"", "dev/../x", "a b", "/x", "x:", "a:b:c", "dev//alex"}) {
            assertEquals(Optional.empty(), RoutingName.parse(bad), bad);
        }
        assertEquals(Optional.empty(), RoutingName.parse(null));
    }

    @Test
    void aNameWithoutAtSignIsTheBranchItself() {
        RoutingName.Target target = RoutingName.parseTarget("shop:dev/alex").orElseThrow();
        assertEquals("shop:dev/alex", target.name().toString());
        assertFalse(target.timeTravel());
        assertNull(target.point());
    }

    @Test
    void theFirstAtSignStartsAnLsnWhichIsNormalized() {
        RoutingName.Target target = RoutingName.parseTarget("dev/alex@0/16b3748").orElseThrow();
        assertEquals("dev/alex", target.name().toString());
        assertTrue(target.timeTravel());
        assertEquals("0/16B3748", target.point());
        assertEquals("dev/alex@0/16B3748", target.toString());
        assertEquals("shop:main", RoutingName.parseTarget("shop:main@1/0").orElseThrow().name().toString());
    }

    @Test
    void aTimeWithAnOffsetIsNormalizedToUtc() {
        RoutingName.Target target = RoutingName.parseTarget("dev/alex@2026-11-20T11:00:00+01:00").orElseThrow();
        assertEquals("2026-11-20T10:00:00Z", target.point());
        assertEquals("2026-11-20T10:00:00.250Z",
                RoutingName.parseTarget("main@2026-11-20T10:00:00.25Z").orElseThrow().point());
    }

    @Test
    void anUnreadablePointIsABadRequestWithExamples() {
        for (String bad : new String[] {"dev/alex@yesterday", "dev/alex@2026-11-20T10:00:00", "dev/alex@0/16B3748@x",
                "dev/alex@", "dev/alex@ ", "dev/alex@0/1#0123", "dev/alex@123456789/0"}) {
            BranchException e = assertThrows(BranchException.class, () -> RoutingName.parseTarget(bad), bad);
            assertEquals(ErrorCode.BAD_REQUEST, e.code(), bad);
            assertTrue(e.getMessage().contains("0/16B3748") && e.getMessage().contains("2026-11-20T10:00:00Z"),
                    e.getMessage());
        }
    }

    @Test
    void aBadBranchBeforeThePointNamesNoBranchWhateverThePoint() {
        assertEquals(Optional.empty(), RoutingName.parseTarget("dev//alex@0/1"));
        assertEquals(Optional.empty(), RoutingName.parseTarget("@0/1"));
        assertEquals(Optional.empty(), RoutingName.parseTarget("a b@garbage"));
        assertEquals(Optional.empty(), RoutingName.parseTarget(null));
    }
}
