package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.BranchName;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
