package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;

import java.io.IOException;
import java.nio.file.Path;

/** A real store in a test directory with one empty root timeline. */
final class TimelineSource implements AutoCloseable {

    private final PageStore store;
    private final Timeline timeline;

    private TimelineSource(PageStore store, Timeline timeline) {
        this.store = store;
        this.timeline = timeline;
    }

    static TimelineSource open(Path directory, int uid, int gid) throws IOException {
        PageStore store = PageStore.open(directory, StoreOptions.defaults());
        try {
            return new TimelineSource(store, store.timeline(store.createRootTimeline(uid, gid)));
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    PageStore store() {
        return store;
    }

    Timeline timeline() {
        return timeline;
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
