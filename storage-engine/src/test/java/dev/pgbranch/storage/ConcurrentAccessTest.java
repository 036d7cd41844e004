package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers run concurrently with a writer, background layer flushes and explicit flushes: a
 * view at a fixed LSN must never change, and the head must always show whole mutations.
 */
class ConcurrentAccessTest {

    @TempDir
    Path dir;

    /** A 2-page write whose every 8 bytes hold its sequence number: torn writes are visible. */
    private static byte[] stamped(long sequence) {
        ByteBuffer b = ByteBuffer.allocate(2 * Namespace.PAGE_SIZE);
        while (b.hasRemaining()) {
            b.putLong(sequence);
        }
        return b.array();
    }

    @Test
    void readersSeeWholeMutationsAndStableSnapshotsWhileLayersAreFlushed() throws Exception {
        StoreOptions options = new StoreOptions(256 * 1024, 512 * 1024, false);
        try (PageStore store = PageStore.open(dir, options)) {
            Timeline t = store.timeline(store.createRootTimeline(0, 0));
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            int slots = 16;
            for (int s = 0; s < slots; s++) {
                t.write(f, (long) s * 2 * Namespace.PAGE_SIZE, ByteBuffer.wrap(stamped(0)));
            }
            long snapshotLsn = t.lastLsn();
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            threads.add(new Thread(() -> {
                try {
                    for (long seq = 1; seq <= 3000; seq++) {
                        int slot = (int) (seq % slots);
                        t.write(f, (long) slot * 2 * Namespace.PAGE_SIZE, ByteBuffer.wrap(stamped(seq)));
                        if (seq % 500 == 0) {
                            store.flush();
                        }
                        if (seq % 50 == 0) {
                            t.sync();
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    stop.set(true);
                }
            }));
            for (int r = 0; r < 3; r++) {
                int reader = r;
                threads.add(new Thread(() -> {
                    try {
                        Namespace snapshot = t.at(snapshotLsn);
                        ByteBuffer b = ByteBuffer.allocate(2 * Namespace.PAGE_SIZE);
                        while (!stop.get()) {
                            for (int s = 0; s < slots; s++) {
                                b.clear();
                                Namespace ns = reader == 0 ? snapshot : t;
                                assertEquals(b.capacity(), ns.read(f, (long) s * 2 * Namespace.PAGE_SIZE, b));
                                long first = b.getLong(0);
                                for (int i = 0; i < b.capacity(); i += 8) {
                                    assertEquals(first, b.getLong(i), "torn read of slot " + s);
                                }
                                if (reader == 0) {
                                    assertEquals(0, first, "a fixed-LSN view changed");
                                } else {
                                    assertEquals(0, first == 0 ? 0 : first % slots - s, "slot " + s);
                                }
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread th : threads) {
                th.join();
            }
            assertTrue(errors.isEmpty(), () -> errors.peek().toString());
            assertTrue(store.stats().layerFiles() > 1);
            ByteBuffer b = ByteBuffer.allocate(2 * Namespace.PAGE_SIZE);
            t.read(f, 0, b);
            assertArrayEquals(stamped(2992), b.array(), "the last write of slot 0");
        }
    }

    @Test
    void anInterruptedCallerFailsAloneAndTheStoreKeepsWorking() throws Exception {
        StoreOptions options = new StoreOptions(64 * 1024, 1 << 20, true);
        TimelineId id;
        long f;
        try (PageStore store = PageStore.open(dir, options)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int n = 0; n < 40; n++) {
                t.write(f, (long) n * Namespace.PAGE_SIZE, ByteBuffer.wrap(stamped(n), 0, Namespace.PAGE_SIZE));
            }
            store.flush();
            long lsn = t.lastLsn();
            // An interrupted thread writes, syncs and reads: each call may fail, and closes
            // the shared FileChannels it was using.
            Thread.currentThread().interrupt();
            try {
                t.write(f, 0, ByteBuffer.wrap(stamped(99), 0, Namespace.PAGE_SIZE));
            } catch (java.io.IOException expected) {
                assertTrue(expected instanceof java.io.InterruptedIOException, expected.toString());
            }
            try {
                t.sync();
            } catch (java.io.IOException expected) {
                assertTrue(expected instanceof java.io.InterruptedIOException, expected.toString());
            }
            try {
                t.at(lsn).read(f, 5L * Namespace.PAGE_SIZE, ByteBuffer.allocate(Namespace.PAGE_SIZE));
            } catch (java.io.IOException expected) {
                assertTrue(expected instanceof java.io.InterruptedIOException, expected.toString());
            }
            Thread.interrupted();
            // Everyone else carries on.
            for (int n = 0; n < 40; n++) {
                ByteBuffer b = ByteBuffer.allocate(Namespace.PAGE_SIZE);
                t.at(lsn).read(f, (long) n * Namespace.PAGE_SIZE, b);
                assertArrayEquals(java.util.Arrays.copyOf(stamped(n), Namespace.PAGE_SIZE), b.array());
            }
            t.write(f, 0, ByteBuffer.wrap(stamped(7), 0, Namespace.PAGE_SIZE));
            t.sync();
        }
        try (PageStore store = PageStore.open(dir, options)) {
            ByteBuffer b = ByteBuffer.allocate(Namespace.PAGE_SIZE);
            store.timeline(id).read(f, 0, b);
            assertArrayEquals(java.util.Arrays.copyOf(stamped(7), Namespace.PAGE_SIZE), b.array());
        }
    }
}
