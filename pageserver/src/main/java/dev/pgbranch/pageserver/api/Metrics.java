package dev.pgbranch.pageserver.api;

import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.GarbageCollector;
import dev.pgbranch.storage.StoreStats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The {@code /metrics} page in the Prometheus text format (version 0.0.4): branches, running
 * computes, storage engine counters, garbage collection, API requests by status, and the wire proxy's own series
 * (connections, wakes and their latency, bytes and errors per branch).
 *
 * <p>Thread-safe: request counters are {@link LongAdder}s; the rest is read when rendered.
 */
final class Metrics {

    private final BranchService branches;
    private final Supplier<StoreStats> storeStats;
    private final Supplier<String> proxyMetrics;
    private final Map<Integer, LongAdder> requests = new ConcurrentHashMap<>();
    private volatile GarbageCollector gc;

    /** @param proxyMetrics complete series in the text format, appended as they are */
    Metrics(BranchService branches, Supplier<StoreStats> storeStats, Supplier<String> proxyMetrics) {
        this.branches = branches;
        this.storeStats = storeStats;
        this.proxyMetrics = proxyMetrics;
    }

    /** Adds the garbage collector's series from now on. */
    void garbageCollector(GarbageCollector collector) {
        this.gc = collector;
    }

    void countRequest(int status) {
        requests.computeIfAbsent(status, s -> new LongAdder()).increment();
    }

    String render() {
        StringBuilder out = new StringBuilder(1024);
        gauge(out, "pgbranch_branches", "Branches in all projects.", branches.branchCount());
        gauge(out, "pgbranch_computes_running", "Postgres computes currently running.", branches.runningComputes());
        counter(out, "pgbranch_compute_idle_stops_total", "Computes the server stopped after the idle timeout without "
                + "client connections (those the proxy does not see: handed-off branch ports, computes it did not wake).",
                branches.idleStops());
        StoreStats stats = storeStats.get();
        gauge(out, "pgbranch_store_timelines", "Live timelines in the storage engine.", stats.timelines());
        gauge(out, "pgbranch_store_layer_files", "Live layer files.", stats.layerFiles());
        gauge(out, "pgbranch_store_layer_bytes", "Bytes of live layer files on disk.", stats.layerBytes());
        gauge(out, "pgbranch_store_ingest_log_bytes", "Bytes of ingest log not yet trimmed.", stats.ingestLogBytes());
        counter(out, "pgbranch_store_page_cache_hits_total", "Page reads served from the page cache.", stats.pageCacheHits());
        counter(out, "pgbranch_store_page_cache_misses_total", "Page reads decoded from layer files.", stats.pageCacheMisses());
        counter(out, "pgbranch_store_compactions_total", "Layer merges (background and garbage collection).",
                stats.compactions());
        counter(out, "pgbranch_store_compaction_written_bytes_total", "Bytes of layer files written by merges.",
                stats.compactionBytesWritten());
        counter(out, "pgbranch_store_versions_dropped_total", "Page versions merges dropped because nothing could read them.",
                stats.versionsDropped());
        GarbageCollector collector = gc;
        if (collector != null) {
            counter(out, "pgbranch_gc_runs_total", "Garbage collection rounds (scheduled and requested).", collector.runs());
            counter(out, "pgbranch_gc_bytes_freed_total", "Layer bytes freed by garbage collection.", collector.bytesFreed());
            counter(out, "pgbranch_gc_failures_total", "Timelines whose garbage collection failed.", collector.failures());
            out.append("# HELP pgbranch_gc_last_duration_seconds Duration of the last garbage collection round.\n");
            out.append("# TYPE pgbranch_gc_last_duration_seconds gauge\n");
            out.append("pgbranch_gc_last_duration_seconds ")
                    .append(String.format(java.util.Locale.ROOT, "%.3f", collector.lastDuration().toNanos() / 1e9))
                    .append('\n');
        }
        out.append("# HELP pgbranch_api_requests_total Management API requests by HTTP status.\n");
        out.append("# TYPE pgbranch_api_requests_total counter\n");
        new TreeMap<>(requests).forEach((status, count) ->
                out.append("pgbranch_api_requests_total{status=\"").append(status).append("\"} ")
                        .append(count.sum()).append('\n'));
        out.append(proxyMetrics.get());
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        metric(out, name, help, "gauge", value);
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        metric(out, name, help, "counter", value);
    }

    private static void metric(StringBuilder out, String name, String help, String type, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        out.append(name).append(' ').append(value).append('\n');
    }
}
