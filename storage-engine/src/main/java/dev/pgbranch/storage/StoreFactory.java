package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.file.Path;

/** Binds {@link PageStore#open} to the implementation (kept out of the public API). */
final class StoreFactory {

    private StoreFactory() {
    }

    static PageStore open(Path directory, StoreOptions options) throws IOException {
        return LayeredStore.open(directory, options);
    }
}
