package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.file.Path;

/** A store file fails its checks: which file, at which byte offset, and what is wrong there. */
public final class CorruptFileException extends IOException {

    private final Path file;
    private final long offset;
    private final String problem;

    public CorruptFileException(Path file, long offset, String problem) {
        super("layer file " + file + ": " + problem + " at offset " + offset);
        this.file = file;
        this.offset = offset;
        this.problem = problem;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }

    public String problem() {
        return problem;
    }
}
