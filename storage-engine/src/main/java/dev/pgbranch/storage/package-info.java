/**
 * pgbranch storage engine: versioned 8 KB pages of whole data directories, per timeline, with
 * O(1) branches.
 *
 * <p>Public API: {@link dev.pgbranch.storage.PageStore} (open with
 * {@link dev.pgbranch.storage.PageStore#open}), {@link dev.pgbranch.storage.Timeline} (writable
 * head) and {@link dev.pgbranch.storage.Namespace} (read-only view at an LSN). Everything else
 * is package-private.
 *
 * <p>How it works:
 * <ul>
 *   <li><b>Keys</b> ({@code Keys}): {@code (inode, block)} for pages, plus per-inode attribute
 *       and directory records and the lineage's inode counter. Every value is a full image, so
 *       a read stops at the newest version at or below its LSN.</li>
 *   <li><b>Writes</b> ({@code TimelineImpl}): each mutating call becomes one {@code Batch} at the
 *       next LSN, appended as one record to the shared ingest log ({@code IngestLog},
 *       format in {@code LogFormat}) and indexed in the timeline's {@code InMemoryLayer}.
 *       {@code sync()} group-commits the log; appends never wait for the disk (segments are
 *       pre-allocated and rolled without fsync, unsynced bursts are written back in the
 *       background).</li>
 *   <li><b>Flush</b> ({@code LayeredStore}, {@code LayerWriter}): a full in-memory layer is
 *       frozen and written by a background thread as an immutable delta layer file (format in
 *       {@code LayerFormat}), then listed in the atomically replaced {@code Manifest}; the log is
 *       trimmed behind what layer files hold.</li>
 *   <li><b>Reads</b> (GetPage@LSN): open layer, frozen layers, layer files newest first (a
 *       per-timeline {@code KeyFilter} and per-file bitmaps skip files without the key), then the
 *       ancestor at the branch LSN; decoded values are cached in the {@code PageCache}.</li>
 *   <li><b>Truncate</b>: shrinking only records the size; growing again shadows the old pages
 *       past the old end with ZERO_PAGE tombstones (bounded by the file's high-water mark) and
 *       zeroes the old last page's tail, so old bytes never reappear at later LSNs while older
 *       LSNs still read them.</li>
 *   <li><b>Marks</b> ({@code MarksFile}): (LSN, time, WAL position) per timeline, recorded on
 *       creation, by {@code mark()} and automatically at most once a second as syncs advance.</li>
 *   <li><b>Compaction and GC</b> ({@code LayerMerge}, {@code MergeWriter}): one operation that
 *       merges a timeline's layer files into one, copying kept values' stored bytes as they are
 *       and dropping every version no reader can reach: readable points are every LSN at or
 *       above the timeline's GC horizon plus its live children's branch points; a page version
 *       kept only for such a point is dropped too when its file is gone or shorter there (what
 *       frees dropped tables and truncated pages). The horizon is per timeline, monotonic and
 *       in the manifest before anything is dropped; {@code at()} and {@code createBranch}
 *       refuse LSNs below it. A background compactor thread merges a timeline once it has
 *       {@code compactionThreshold} files (leaving large, already merged old files alone);
 *       {@code collectGarbage} raises the horizon and merges everything. Merged-away files are
 *       unlinked at once and closed a minute later, for readers still holding them.</li>
 *   <li><b>Disk usage</b> ({@code DiskUsage}): per timeline, from the layer indexes: own,
 *       exclusive (no child's branch point sees it) and shared bytes.</li>
 *   <li><b>Recovery</b>: manifest, verified layer files (temporary and unlisted ones deleted),
 *       then the log's valid prefix replayed above each timeline's disk-consistent LSN. A
 *       damaged log record with valid records behind it fails the open (naming segment and
 *       offset) instead of being cut as a torn tail.</li>
 * </ul>
 */
package dev.pgbranch.storage;
