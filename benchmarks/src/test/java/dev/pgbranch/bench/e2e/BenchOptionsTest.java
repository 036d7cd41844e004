package dev.pgbranch.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Groups, skips, the profile switch and the TPS scales. */
class BenchOptionsTest {

    @Test
    void fullRunLoadsFourSizesAndMeasuresTpsAtTenAndTheLargest() {
        BenchOptions full = BenchOptions.parse("--pgbranch", "/bin/true");
        assertEquals(List.of(1, 10, 30, 60), full.scales());
        assertEquals(List.of(10, 60), full.tpsScales());
        assertTrue(full.wants("jmh") && full.wants("tps") && full.wantsEndToEnd());
        assertFalse(full.wants("profile"), "the profile runs only when asked for");
        BenchOptions quick = BenchOptions.parse("--quick", "--pgbranch", "/bin/true");
        assertEquals(List.of(10), quick.tpsScales());
        assertEquals(List.of(1), BenchOptions.parse("--scales", "1", "--pgbranch", "/bin/true").tpsScales(),
                "the largest scale when 10 is not loaded");
    }

    @Test
    void onlyJmhNeedsNoServerAndSkipLeavesTheRest() {
        BenchOptions jmh = BenchOptions.parse("--only", "jmh", "--pgbranch", "/bin/true");
        assertTrue(jmh.wants("jmh"));
        assertFalse(jmh.wantsEndToEnd());
        BenchOptions skip = BenchOptions.parse("--skip", "jmh,storage", "--pgbranch", "/bin/true");
        assertEquals(Set.of("jmh", "storage"), skip.skip());
        assertFalse(skip.wants("jmh") || skip.wants("storage"));
        assertTrue(skip.wants("create") && skip.wantsEndToEnd());
        BenchOptions profile = BenchOptions.parse("--profile", "--pgbranch", "/bin/true");
        assertTrue(profile.wants("profile") && profile.wantsEndToEnd());
        assertFalse(profile.wants("jmh") || profile.wants("tps"));
    }

    @Test
    void unknownGroupsAndBadScalesAreRefused() {
        IllegalArgumentException skip = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--skip", "jmh,everything", "--pgbranch", "/bin/true"));
        assertTrue(skip.getMessage().contains("--skip takes groups of"), skip.getMessage());
        IllegalArgumentException tps = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--tps-scales", "0", "--pgbranch", "/bin/true"));
        assertTrue(tps.getMessage().contains("--tps-scales must be positive"), tps.getMessage());
        assertEquals(List.of(5, 20), BenchOptions.parse("--tps-scales", "20,5", "--pgbranch", "/bin/true").tpsScales());
    }
}
