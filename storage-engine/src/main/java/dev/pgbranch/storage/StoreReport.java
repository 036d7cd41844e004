package dev.pgbranch.storage;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link PageStore#verify()} found: every layer file's values, the manifest and every
 * ingest log record checked, with each problem's file and offset.
 *
 * @param findings problems, each naming a file and an offset (empty: the store is sound)
 * @param quarantined timelines held back from serving, with why
 * @param quarantineFiles files kept aside under {@code quarantine/} (cut log tails, layers of
 *     unknown timelines), for an operator to inspect and remove
 */
public record StoreReport(List<Finding> findings, Map<TimelineId, String> quarantined, List<Path> quarantineFiles,
                          int layerFilesChecked, long valuesChecked, long logRecordsChecked, long logBytesChecked) {

    /** One problem: the file, the byte offset in it, and what is wrong there. */
    public record Finding(Path file, long offset, String problem) {
    }

    public boolean sound() {
        return findings.isEmpty() && quarantined.isEmpty();
    }
}
