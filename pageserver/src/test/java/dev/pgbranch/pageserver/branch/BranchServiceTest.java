package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.Branch;
import dev.pgbranch.pageserver.catalog.BranchName;
import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.pageserver.catalog.CatalogState;
import dev.pgbranch.pageserver.catalog.Project;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.pageserver.compute.ComputeUser;
import dev.pgbranch.pageserver.compute.PostgresInstallation;
import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The branch lifecycle against the real storage engine and a real catalog file, with files
 * written straight into timelines instead of through Postgres (no compute is started, so no
 * FUSE or Postgres is needed: {@code BranchWorkflowTest} covers those).
 */
class BranchServiceTest {

    private static final String P = Project.DEFAULT;

    @TempDir
    Path dir;

    private PageStore store;
    private Catalog catalog;
    private ComputeManager computes;
    private BranchService service;
    private int nextFreePort = 40000;

    @BeforeEach
    void open() throws Exception {
        store = PageStore.open(dir.resolve("store"), StoreOptions.defaults());
        catalog = Catalog.open(dir.resolve("catalog.json"), 40000);
        computes = new ComputeManager(store, dir.resolve("run"), PostgresInstallation.detect(), ComputeUser.detect());
        service = new BranchService(catalog, store, computes, new ProjectSecrets(dir.resolve("secrets")), port -> true);
        // A project as createProject leaves it, minus initdb: production (protected) -> development.
        TimelineId root = store.createRootTimeline(0, 0);
        write(root, "base", "from production");
        TimelineId development = store.createBranch(root, store.timeline(root).lastLsn());
        Instant now = Instant.now();
        catalog.update(s -> {
            Branch production = new Branch(BranchName.of("production"), null, root, now, 0, true, 40000);
            Branch dev = new Branch(BranchName.of("development"), production.name(), development, now,
                    store.timeline(root).lastLsn(), false, 40001);
            return new CatalogState(40000, 40002, Map.of(P, new Project(P, now, Map.of(production.name(), production,
                    dev.name(), dev))), s.retiredTimelines());
        });
    }

    @AfterEach
    void close() throws Exception {
        computes.close();
        store.close();
    }

    private void write(TimelineId timeline, String name, String content) throws Exception {
        Timeline t = store.timeline(timeline);
        long inode = t.lookup(Namespace.ROOT_INODE, name);
        if (inode == Namespace.NO_INODE) {
            inode = t.create(Namespace.ROOT_INODE, name, InodeKind.FILE, 0600, 0, 0);
        }
        t.truncate(inode, 0);
        t.write(inode, 0, ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
        t.sync();
    }

    private String read(String branch, String name) throws Exception {
        Timeline t = store.timeline(TimelineId.parse(service.show(P, branch).timeline()));
        long inode = t.lookup(Namespace.ROOT_INODE, name);
        if (inode == Namespace.NO_INODE) {
            return null;
        }
        ByteBuffer buffer = ByteBuffer.allocate(256);
        int n = t.read(inode, 0, buffer);
        return new String(buffer.array(), 0, n, StandardCharsets.UTF_8);
    }

    private TimelineId timeline(String branch) {
        return TimelineId.parse(service.show(P, branch).timeline());
    }

    @Test
    void aChildSeesItsParentsDataAndTheyDivergeFromThere() throws Exception {
        write(timeline("development"), "table", "v1");
        BranchInfo alex = service.create(P, "dev/alex", "development", null);
        assertEquals("v1", read("dev/alex", "table"));
        assertEquals("from production", read("dev/alex", "base"));
        write(timeline("dev/alex"), "table", "alex's change");
        write(timeline("development"), "table", "v2");
        assertEquals("alex's change", read("dev/alex", "table"));
        assertEquals("v2", read("development", "table"));
        assertEquals(40002, alex.port());
        assertEquals("development", alex.parent());
    }

    @Test
    void resetKeepsNameAndPortAndMatchesTheParentsCurrentState() throws Exception {
        write(timeline("development"), "table", "v1");
        BranchInfo before = service.create(P, "dev/alex", "development", null);
        write(timeline("dev/alex"), "mine", "local work");
        write(timeline("development"), "table", "v2");
        BranchInfo after = service.reset(P, "dev/alex");
        assertEquals(before.port(), after.port());
        assertEquals(before.createdAt(), after.createdAt());
        assertNotEquals(before.timeline(), after.timeline());
        assertEquals("v2", read("dev/alex", "table"));
        assertEquals(null, read("dev/alex", "mine"));
        assertFalse(store.timelines().contains(TimelineId.parse(before.timeline())), "the old timeline is deleted");
        assertTrue(catalog.state().retiredTimelines().isEmpty());
    }

    @Test
    void resettingABranchWithChildrenKeepsItsOldTimelineUntilTheyAreGone() throws Exception {
        service.create(P, "dev/alex", "development", null);
        TimelineId old = timeline("dev/alex");
        service.create(P, "dev/alex/experiment", "dev/alex", null);
        service.reset(P, "dev/alex");
        assertTrue(store.timelines().contains(old), "the child still reads through it");
        assertEquals(java.util.Set.of(old), catalog.state().retiredTimelines());
        service.delete(P, "dev/alex/experiment");
        assertFalse(store.timelines().contains(old));
        assertTrue(catalog.state().retiredTimelines().isEmpty());
    }

    @Test
    void branchingAtAnLsnSeesThatMomentOnly() throws Exception {
        write(timeline("development"), "table", "v1");
        String lsn = service.show(P, "development").headLsn();
        write(timeline("development"), "table", "v2");
        BranchInfo hotfix = service.create(P, "hotfix", "development", lsn);
        assertEquals(lsn, hotfix.parentLsn());
        assertEquals("v1", read("hotfix", "table"));
    }

    @Test
    void branchingAtATimeUsesTheTimeMarks() throws Exception {
        write(timeline("development"), "table", "v1");
        markAll();
        Thread.sleep(20);
        Instant between = Instant.now();
        Thread.sleep(20);
        write(timeline("development"), "table", "v2");
        markAll();
        service.create(P, "hotfix", "development", between.toString());
        assertEquals("v1", read("hotfix", "table"));
        BranchException early = assertThrows(BranchException.class,
                () -> service.create(P, "too-early", "development", Instant.now().minusSeconds(3600).toString()));
        assertEquals(ErrorCode.BAD_REQUEST, early.code());
        assertTrue(early.getMessage().contains("no history"), early.getMessage());
        BranchException outside = assertThrows(BranchException.class,
                () -> service.create(P, "too-early", "development", "2001-01-01T00:00:00Z"));
        assertEquals(ErrorCode.BAD_REQUEST, outside.code());
        assertTrue(outside.getMessage().contains("outside the retention window of project 'default' (7d)"),
                outside.getMessage());
    }

    @Test
    void restoreKeepsThePreviousStateAsABackupBranchBesideIt() throws Exception {
        service.create(P, "dev/alex", "development", null);
        write(timeline("dev/alex"), "table", "good");
        String good = service.show(P, "dev/alex").headLsn();
        write(timeline("dev/alex"), "table", "dropped by mistake");
        TimelineId before = timeline("dev/alex");
        List<String> namesBefore = service.list(P).stream().map(BranchInfo::name).toList();

        service.restore(P, "dev/alex", good);
        List<BranchInfo> backups = service.list(P).stream().filter(b -> !namesBefore.contains(b.name())).toList();
        assertEquals(1, backups.size(), backups.toString());
        BranchInfo backup = backups.getFirst();
        assertTrue(backup.name().matches("dev/alex_old_\\d{8}T\\d{6}Z"), backup.name());
        assertEquals("development", backup.parent());
        assertEquals(before.toString(), backup.timeline(), "the backup points at the pre-restore timeline");
        assertFalse(backup.protectedBranch());
        assertNotEquals(service.show(P, "dev/alex").port(), backup.port());
        assertEquals("good", read("dev/alex", "table"));
        assertEquals("dropped by mistake", read(backup.name(), "table"));
        assertTrue(catalog.state().retiredTimelines().isEmpty());

        service.delete(P, backup.name());
        assertEquals("good", read("dev/alex", "table"), "the restored branch reads through the backup's old timeline");
        assertTrue(store.timelines().contains(before), "kept while the restored timeline descends from it");
        assertEquals(java.util.Set.of(before), catalog.state().retiredTimelines());
    }

    @Test
    void anLsnNotedBeforeAResetOrRestoreNeverNamesAStateAfterItAndHeadsOnlyGrow() throws Exception {
        service.create(P, "dev/alex", "development", null);
        write(timeline("dev/alex"), "table", "mine");
        write(timeline("dev/alex"), "table", "mine, later");
        String noted = service.show(P, "dev/alex").headLsn();
        long before = Lsn.parse(noted);

        service.reset(P, "dev/alex");
        long afterReset = Lsn.parse(service.show(P, "dev/alex").headLsn());
        assertTrue(afterReset > before, "the head grows: " + Lsn.format(afterReset) + " after " + noted);
        write(timeline("dev/alex"), "table", "after the reset");
        assertTrue(store.timeline(timeline("dev/alex")).lastLsn() > before, "new writes get LSNs above the old head");
        BranchException e = assertThrows(BranchException.class, () -> service.restore(P, "dev/alex", noted));
        assertEquals(ErrorCode.BAD_REQUEST, e.code());
        assertTrue(e.getMessage().contains("before its last reset or restore"), e.getMessage());
        assertEquals("after the reset", read("dev/alex", "table"), "the refusal changes nothing");

        String afterWrite = service.show(P, "dev/alex").headLsn();
        service.restore(P, "dev/alex", Lsn.format(afterReset), false);
        assertTrue(Lsn.parse(service.show(P, "dev/alex").headLsn()) > Lsn.parse(afterWrite), "restore keeps heads growing");
        BranchException again = assertThrows(BranchException.class, () -> service.restore(P, "dev/alex", afterWrite));
        assertTrue(again.getMessage().contains("before its last reset or restore"), again.getMessage());
    }

    @Test
    void restoreWithoutBackupAddsNoBranchAndRetiresTheOldTimeline() throws Exception {
        service.create(P, "dev/alex", "development", null);
        write(timeline("dev/alex"), "table", "good");
        String good = service.show(P, "dev/alex").headLsn();
        write(timeline("dev/alex"), "table", "bad");
        TimelineId before = timeline("dev/alex");
        int branches = service.list(P).size();
        service.restore(P, "dev/alex", good, false);
        assertEquals(branches, service.list(P).size());
        assertEquals("good", read("dev/alex", "table"));
        assertEquals(java.util.Set.of(before), catalog.state().retiredTimelines(), "kept for the restored timeline only");
    }

    @Test
    void pointsOutsideTheRetentionWindowAreRefusedNamingTheWindowAndTheOldestPoint() throws Exception {
        service.create(P, "dev/alex", "development", null);
        write(timeline("dev/alex"), "table", "old");
        String old = service.show(P, "dev/alex").headLsn();
        markAll();
        Thread.sleep(20);
        Instant oldTime = Instant.now();
        Thread.sleep(20);
        write(timeline("dev/alex"), "table", "new");
        markAll();
        assertEquals(Duration.ofDays(7), service.projectInfo(P).retention());

        ProjectInfo project = service.setRetention(P, "0s");
        assertEquals(Duration.ZERO, project.retention());
        BranchInfo.RestorableFrom oldest = service.show(P, "dev/alex").restorableFrom();
        assertEquals(service.show(P, "dev/alex").headLsn(), oldest.lsn(), "with no window only the head is restorable");
        for (String at : new String[] {old, oldTime.toString()}) {
            BranchException e = assertThrows(BranchException.class, () -> service.restore(P, "dev/alex", at));
            assertEquals(ErrorCode.BAD_REQUEST, e.code());
            assertTrue(e.getMessage().contains("outside the retention window of project 'default' (0s)")
                    && e.getMessage().contains("LSN " + oldest.lsn()), e.getMessage());
            e = assertThrows(BranchException.class, () -> service.create(P, "hotfix", "dev/alex", at));
            assertTrue(e.getMessage().contains("retention window"), e.getMessage());
        }
        assertEquals("new", read("dev/alex", "table"), "refusals change nothing");

        service.setRetention(P, "1h");
        BranchInfo.RestorableFrom wide = service.show(P, "dev/alex").restorableFrom();
        assertTrue(Long.compareUnsigned(Lsn.parse(wide.lsn()), Lsn.parse(old)) <= 0, wide.toString());
        assertTrue(wide.time() != null && !wide.time().isAfter(oldTime), wide.toString());
        service.restore(P, "dev/alex", oldTime.toString(), false);
        assertEquals("old", read("dev/alex", "table"));
        for (String bad : new String[] {"-1h", "soon", ""}) {
            assertEquals(ErrorCode.BAD_REQUEST, assertThrows(BranchException.class, () -> service.setRetention(P, bad)).code());
        }
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(BranchException.class, () -> service.setRetention("nope", "1d")).code());
        assertEquals(Duration.ofHours(1), Catalog.open(dir.resolve("catalog.json"), 1).state().project(P).orElseThrow().retention());
    }

    @Test
    void restoreGoesBackInTheBranchsOwnHistory() throws Exception {
        service.create(P, "dev/alex", "development", null);
        write(timeline("dev/alex"), "table", "good");
        String good = service.show(P, "dev/alex").headLsn();
        write(timeline("dev/alex"), "table", "dropped by mistake");
        BranchInfo restored = service.restore(P, "dev/alex", good);
        assertEquals("good", read("dev/alex", "table"));
        assertEquals(service.show(P, "dev/alex").port(), restored.port());
        assertEquals(ErrorCode.PROTECTED, assertThrows(BranchException.class,
                () -> service.restore(P, "production", Lsn.format(1))).code());
    }

    @Test
    void garbageCollectionGivesUpHistoryOutsideTheWindowButKeepsTheHeadAndEveryBranchPoint() throws Exception {
        service.create(P, "dev/alex", "development", null);
        TimelineId alex = timeline("dev/alex");
        write(alex, "table", "v1");
        String v1 = service.show(P, "dev/alex").headLsn();
        service.create(P, "dev/alex/child", "dev/alex", null);
        for (int i = 2; i <= 30; i++) {
            write(alex, "table", "v" + i);
        }
        markAll();
        store.flush();
        service.setRetention(P, "0s");
        Thread.sleep(5);

        GarbageCollector gc = new GarbageCollector(catalog, store, service);
        GarbageCollector.Report report = gc.collect(P);
        Map<String, GarbageCollector.Entry> byBranch = new java.util.HashMap<>();
        report.entries().forEach(e -> byBranch.put(e.branch(), e));
        assertEquals(java.util.Set.of("production", "development", "dev/alex", "dev/alex/child"), byBranch.keySet());
        GarbageCollector.Entry entry = byBranch.get("dev/alex");
        assertEquals(null, entry.error());
        assertTrue(entry.windowApplied());
        assertTrue(Lsn.parse(entry.horizonLsn()) > Lsn.parse(v1), entry.toString());
        assertTrue(entry.bytesAfter() <= entry.bytesBefore(), entry.toString());
        assertEquals(Lsn.parse(entry.horizonLsn()), store.timeline(alex).gcHorizon());
        assertEquals("v30", read("dev/alex", "table"), "the head is untouched");
        assertEquals("v1", read("dev/alex/child", "table"), "the child's branch point stays readable");
        assertThrows(IllegalArgumentException.class, () -> store.timeline(alex).at(Lsn.parse(v1)));
        BranchException refused = assertThrows(BranchException.class, () -> service.restore(P, "dev/alex", v1));
        assertTrue(refused.getMessage().contains("retention window"), refused.getMessage());
        assertEquals(1, gc.runs());
        assertEquals(report.bytesFreed(), gc.bytesFreed());

        // A retired timeline (reset while a child reads through it) is collected down to the child's point.
        service.reset(P, "dev/alex");
        assertEquals(java.util.Set.of(alex), catalog.state().retiredTimelines());
        GarbageCollector.Report second = gc.collect(null);
        GarbageCollector.Entry retired = second.entries().stream().filter(GarbageCollector.Entry::retired)
                .findFirst().orElseThrow();
        assertEquals(alex, retired.timeline());
        assertEquals(null, retired.error());
        assertEquals("v1", read("dev/alex/child", "table"));
    }

    @Test
    void diskUsageIsReportedPerBranchAndSummedForTheProject() throws Exception {
        service.create(P, "dev/alex", "development", null);
        TimelineId alex = timeline("dev/alex");
        Timeline t = store.timeline(alex);
        long inode = t.create(Namespace.ROOT_INODE, "big", InodeKind.FILE, 0600, 0, 0);
        byte[] page = new byte[8192];
        java.util.Random random = new java.util.Random(1);
        for (int block = 0; block < 256; block++) { // 2 MiB of incompressible pages
            random.nextBytes(page);
            t.write(inode, (long) block * page.length, ByteBuffer.wrap(page));
        }
        t.sync();
        store.flush();
        BranchInfo.Usage usage = service.show(P, "dev/alex").usage();
        assertTrue(usage != null && usage.exclusiveBytes() >= 2_000_000, String.valueOf(usage));
        ProjectInfo project = service.projectInfo(P);
        assertTrue(project.usageKnown());
        assertTrue(project.layerBytes() >= usage.ownBytes(), project + " " + usage);
        service.delete(P, "dev/alex");
        assertTrue(service.projectInfo(P).layerBytes() <= project.layerBytes() - usage.exclusiveBytes(),
                "deleting the branch frees what only it used");
    }

    @Test
    void oneTimelinesGarbageCollectionFailureIsReportedAndTheOthersAreStillCollected() throws Exception {
        service.create(P, "dev/alex", "development", null);
        TimelineId broken = timeline("development");
        PageStore failing = new FailingGcStore(store, broken);
        GarbageCollector gc = new GarbageCollector(catalog, failing, service);
        GarbageCollector.Report report = gc.collect(P);
        assertEquals(3, report.entries().size());
        for (GarbageCollector.Entry e : report.entries()) {
            if (e.timeline().equals(broken)) {
                assertTrue(e.error().contains("disk on fire"), e.toString());
            } else {
                assertEquals(null, e.error(), e.toString());
            }
        }
        assertEquals(1, gc.failures());
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(BranchException.class, () -> gc.collect("nope")).code());
    }

    /** The store's own marker runs once a second; tests mark every live timeline at once instead. */
    private void markAll() throws java.io.IOException {
        for (TimelineId id : catalog.state().liveTimelines()) {
            store.timeline(id).mark(Instant.now(), null);
        }
    }

    /** The real store, except that collecting {@code broken} fails as a disk error would. */
    private record FailingGcStore(PageStore store, TimelineId broken) implements PageStore {
        @Override
        public TimelineId createRootTimeline(int uid, int gid) throws java.io.IOException {
            return store.createRootTimeline(uid, gid);
        }

        @Override
        public TimelineId createBranch(TimelineId ancestor, long ancestorLsn, long lsnFloor) throws java.io.IOException {
            return store.createBranch(ancestor, ancestorLsn, lsnFloor);
        }

        @Override
        public Timeline timeline(TimelineId id) {
            return store.timeline(id);
        }

        @Override
        public java.util.Set<TimelineId> timelines() {
            return store.timelines();
        }

        @Override
        public java.util.Map<TimelineId, String> quarantined() {
            return store.quarantined();
        }

        @Override
        public dev.pgbranch.storage.StoreReport verify() throws java.io.IOException {
            return store.verify();
        }

        @Override
        public java.util.Optional<dev.pgbranch.storage.Ancestor> ancestor(TimelineId id) {
            return store.ancestor(id);
        }

        @Override
        public void deleteTimeline(TimelineId id) throws java.io.IOException {
            store.deleteTimeline(id);
        }

        @Override
        public dev.pgbranch.storage.GcResult collectGarbage(TimelineId id, long horizonLsn) throws java.io.IOException {
            if (id.equals(broken)) {
                throw new java.io.IOException("disk on fire");
            }
            return store.collectGarbage(id, horizonLsn);
        }

        @Override
        public dev.pgbranch.storage.TimelineUsage usage(TimelineId id) throws java.io.IOException {
            return store.usage(id);
        }

        @Override
        public void flush() throws java.io.IOException {
            store.flush();
        }

        @Override
        public dev.pgbranch.storage.StoreStats stats() {
            return store.stats();
        }

        @Override
        public void close() {
            // the test closes the real store
        }
    }

    @Test
    void deleteRefusesProtectedBranchesAndBranchesWithChildren() throws Exception {
        assertEquals(ErrorCode.PROTECTED, assertThrows(BranchException.class, () -> service.delete(P, "production")).code());
        service.create(P, "dev/alex", "development", null);
        BranchException hasChildren = assertThrows(BranchException.class, () -> service.delete(P, "development"));
        assertEquals(ErrorCode.HAS_CHILDREN, hasChildren.code());
        assertTrue(hasChildren.getMessage().contains("(dev/alex); delete them first"), hasChildren.getMessage());
        TimelineId development = timeline("development");
        service.setProtected(P, "production", false);
        assertEquals(ErrorCode.HAS_CHILDREN, assertThrows(BranchException.class, () -> service.delete(P, "production")).code());
        assertTrue(store.timelines().contains(development), "refusals delete nothing");
    }

    @Test
    void timelinesLeftByACrashBeforeTheCatalogWriteAreQuarantinedAtStartNeverDeleted() throws Exception {
        // What a crash between store.createBranch and the catalog update leaves behind.
        TimelineId orphan = store.createBranch(timeline("development"), store.timeline(timeline("development")).lastLsn());
        write(orphan, "table", "written before the crash");
        TimelineId orphanChild = store.createBranch(orphan, store.timeline(orphan).lastLsn());
        Quarantine quarantine = new Quarantine(catalog, store, service);
        assertEquals(java.util.Set.of(orphan, orphanChild), quarantine.admitUnknown());
        service.collectGarbage();
        assertTrue(store.timelines().containsAll(java.util.Set.of(orphan, orphanChild)), "nothing deleted on a guess");
        assertEquals(java.util.Set.of(orphan, orphanChild), catalog.state().quarantinedTimelines());
        assertTrue(quarantine.admitUnknown().isEmpty(), "admitted once");

        Quarantine.Entry entry = quarantine.list().stream().filter(e -> e.timeline().equals(orphan)).findFirst()
                .orElseThrow();
        assertEquals(timeline("development"), entry.ancestor());
        assertEquals("default/development", entry.ancestorBranch());
        assertEquals(java.util.List.of(orphanChild), entry.children());

        BranchException busy = assertThrows(BranchException.class, () -> quarantine.purge(orphan.toString()));
        assertEquals(ErrorCode.HAS_CHILDREN, busy.code());
        quarantine.purge(orphanChild.toString());
        assertFalse(store.timelines().contains(orphanChild));

        BranchInfo adopted = quarantine.adopt(orphan.toString(), P, "recovered", null);
        assertEquals("development", adopted.parent());
        assertEquals("written before the crash", read("recovered", "table"));
        assertTrue(catalog.state().quarantinedTimelines().isEmpty());
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(BranchException.class,
                () -> quarantine.purge(orphan.toString())).code(), "a branch's timeline is not purgeable");
    }

    @Test
    void concurrentCreatesOfOneNameMakeOneBranchAndLeaveNoOrphan() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<BranchInfo>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Callable<BranchInfo> create = () -> service.create(P, "dev/race", "development", null);
                results.add(pool.submit(create));
            }
            int created = 0;
            int conflicts = 0;
            for (Future<BranchInfo> result : results) {
                try {
                    result.get();
                    created++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertEquals(ErrorCode.CONFLICT, ((BranchException) e.getCause()).code());
                    conflicts++;
                }
            }
            assertEquals(1, created);
            assertEquals(7, conflicts);
            assertEquals(catalog.state().liveTimelines(), store.timelines(), "losers deleted their timelines");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theCatalogOnDiskHasEveryChangeAfterEachOperation() throws Exception {
        service.create(P, "dev/alex", "development", null);
        service.setProtected(P, "dev/alex", true);
        CatalogState reread = Catalog.open(dir.resolve("catalog.json"), 1).state();
        assertEquals(catalog.state(), reread);
        assertTrue(reread.project(P).orElseThrow().branch(BranchName.of("dev/alex")).orElseThrow().protectedBranch());
    }

    @Test
    void expiredBranchesAreDeletedChildrenFirstButProtectedOnesAndParentsOfLiveBranchesAreKept() throws Exception {
        String soon = Instant.now().plusSeconds(60).toString();
        service.create(P, "ci/run-1", "development", null, soon);
        service.create(P, "ci/run-1/step", "ci/run-1", null, soon);
        service.create(P, "ci/keep-parent", "development", null, soon);
        service.create(P, "ci/keep-parent/child", "ci/keep-parent", null);
        service.create(P, "ci/protected", "development", null, soon);
        service.setProtected(P, "ci/protected", true);
        service.create(P, "ci/forever", "development", null);
        assertEquals(List.of(), service.expire(Instant.now()), "nothing has expired yet");

        List<String> deleted = service.expire(Instant.now().plusSeconds(120));
        assertEquals(List.of(P + "/ci/run-1/step", P + "/ci/run-1"), deleted, "the child goes first, then its parent");
        List<String> left = service.list(P).stream().map(BranchInfo::name).toList();
        assertTrue(left.containsAll(List.of("ci/keep-parent", "ci/keep-parent/child", "ci/protected", "ci/forever")), left.toString());
        assertEquals(catalog.state().liveTimelines(), store.timelines(), "expired branches' timelines are deleted");

        service.setExpiry(P, "ci/protected", null);
        assertEquals(null, service.show(P, "ci/protected").expiresAt());
        BranchException past = assertThrows(BranchException.class,
                () -> service.create(P, "ci/late", "development", null, "2001-01-01T00:00:00Z"));
        assertEquals(ErrorCode.BAD_REQUEST, past.code());
        assertTrue(past.getMessage().contains("not in the future"), past.getMessage());
    }

    @Test
    void aRootBranchCannotBeResetAndUnknownNamesAreNotFound() {
        // Protection is checked first: it is the answer a user who protected the branch expects.
        assertEquals(ErrorCode.PROTECTED, assertThrows(BranchException.class, () -> service.reset(P, "production")).code());
        service.setProtected(P, "production", false);
        assertEquals(ErrorCode.BAD_REQUEST, assertThrows(BranchException.class, () -> service.reset(P, "production")).code());
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(BranchException.class, () -> service.show(P, "nope")).code());
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(BranchException.class,
                () -> service.create(P, "x", "nope", null)).code());
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(BranchException.class, () -> service.list("nope")).code());
        assertEquals(ErrorCode.BAD_REQUEST, assertThrows(BranchException.class,
                () -> service.create(P, "../x", "development", null)).code());
    }
}
