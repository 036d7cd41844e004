package dev.pgbranch.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Run in a forked JVM by {@link CrashRecoveryTest}: writes pages into two timelines from two
 * threads, syncing every few writes and printing {@code synced <timeline> <n>} once pages
 * 0..n of that timeline are durable, until it is killed. With a second argument {@code gc}
 * ({@link CompactionCrashTest}), a third thread keeps garbage-collecting both timelines and
 * background merges run every 3 layer files, so that the kill lands in merges too.
 */
public final class CrashWriter {

    private CrashWriter() {
    }

    static byte[] page(int timeline, int n) {
        byte[] p = new byte[Namespace.PAGE_SIZE];
        for (int i = 0; i < p.length; i += 8) {
            p[i] = (byte) (n + i / 8);
            p[i + 1] = (byte) timeline;
        }
        return p;
    }

    public static void main(String[] args) throws Exception {
        boolean gc = args.length > 1 && args[1].equals("gc");
        PageStore store = PageStore.open(Path.of(args[0]),
                new StoreOptions(256 * 1024, 1 << 20, true, gc ? 3 : StoreOptions.DEFAULT_COMPACTION_THRESHOLD));
        TimelineId root = store.createRootTimeline(0, 0);
        Timeline parent = store.timeline(root);
        long parentFile = parent.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
        parent.sync();
        TimelineId branch = store.createBranch(root, parent.lastLsn());
        Timeline child = store.timeline(branch);
        synchronized (System.out) {
            System.out.println("timelines " + root + " " + branch + " " + parentFile);
            System.out.flush();
        }
        Thread[] threads = new Thread[2];
        for (int k = 0; k < 2; k++) {
            int which = k;
            Timeline t = k == 0 ? parent : child;
            threads[k] = new Thread(() -> {
                try {
                    for (int n = 0; ; n++) {
                        t.write(parentFile, (long) n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(which, n)));
                        if (n % 5 == 4) {
                            t.sync();
                            synchronized (System.out) {
                                System.out.println("synced " + which + " " + n);
                                System.out.flush();
                            }
                        }
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            threads[k].start();
        }
        if (gc) {
            Thread collector = new Thread(() -> {
                try {
                    while (true) {
                        for (Timeline t : new Timeline[] {parent, child}) {
                            GcResult r = store.collectGarbage(t.id(), Math.max(t.gcHorizon(), t.lastLsn() - 20));
                            if (r.versionsDropped() > 0) {
                                synchronized (System.out) {
                                    System.out.println("collected " + r.versionsDropped());
                                    System.out.flush();
                                }
                            }
                        }
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            collector.start();
        }
        for (Thread t : threads) {
            t.join();
        }
    }
}
