package dev.pgbranch.proxy;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of a {@link PgProxy}, rendered in the Prometheus text exposition format (version 0.0.4).
 *
 * <p>Per-branch series are created only for branches that exist, so hostile clients naming random
 * branches cannot grow the label space; errors are labelled by SQLSTATE only.
 *
 * <p>Thread-safe: counters are adders updated from event loops and read by {@link #render()}.
 */
final class ProxyMetrics {

    /** Upper bounds (seconds) of the wake latency histogram buckets. */
    private static final double[] WAKE_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    /** Series of one branch. */
    static final class Branch {
        final AtomicLong active = new AtomicLong();
        final LongAdder connections = new LongAdder();
        final LongAdder wakes = new LongAdder();
        final LongAdder wakeFailures = new LongAdder();
        final LongAdder suspends = new LongAdder();
        final LongAdder bytesFromClient = new LongAdder();
        final LongAdder bytesFromCompute = new LongAdder();
        final LongAdder[] wakeBuckets = new LongAdder[WAKE_BUCKETS.length];
        final DoubleAdder wakeSecondsSum = new DoubleAdder();
        final LongAdder wakeCount = new LongAdder();

        Branch() {
            for (int i = 0; i < wakeBuckets.length; i++) {
                wakeBuckets[i] = new LongAdder();
            }
        }

        void observeWake(double seconds) {
            for (int i = 0; i < WAKE_BUCKETS.length; i++) {
                if (seconds <= WAKE_BUCKETS[i]) {
                    wakeBuckets[i].increment();
                }
            }
            wakeSecondsSum.add(seconds);
            wakeCount.increment();
        }
    }

    private final ConcurrentHashMap<String, Branch> branches = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final LongAdder cancelsForwarded = new LongAdder();
    private final LongAdder cancelsUnmatched = new LongAdder();
    private final LongAdder tlsHandshakes = new LongAdder();
    private final LongAdder handoffs = new LongAdder();
    private final LongAdder handoffFailures = new LongAdder();

    Branch branch(String name) {
        return branches.computeIfAbsent(name, _ -> new Branch());
    }

    void error(String sqlState) {
        errors.computeIfAbsent(sqlState, _ -> new LongAdder()).increment();
    }

    void cancel(boolean forwarded) {
        (forwarded ? cancelsForwarded : cancelsUnmatched).increment();
    }

    void handoff(boolean succeeded) {
        (succeeded ? handoffs : handoffFailures).increment();
    }

    void tlsHandshake() {
        tlsHandshakes.increment();
    }

    long bytesFromCompute(String branch) {
        Branch b = branches.get(branch);
        return b == null ? 0 : b.bytesFromCompute.sum();
    }

    long activeConnections(String branch) {
        Branch b = branches.get(branch);
        return b == null ? 0 : b.active.get();
    }

    String render() {
        StringBuilder out = new StringBuilder(4096);
        Map<String, Branch> sorted = new TreeMap<>(branches);
        header(out, "pgbranch_proxy_connections_active", "gauge", "Client connections currently routed to the branch.");
        sorted.forEach((b, m) -> sample(out, "pgbranch_proxy_connections_active", b, m.active.get()));
        header(out, "pgbranch_proxy_connections_total", "counter", "Client connections routed to the branch.");
        sorted.forEach((b, m) -> sample(out, "pgbranch_proxy_connections_total", b, m.connections.sum()));
        header(out, "pgbranch_proxy_wakes_total", "counter", "Wakes of a compute the proxy did not know to be running.");
        sorted.forEach((b, m) -> sample(out, "pgbranch_proxy_wakes_total", b, m.wakes.sum()));
        header(out, "pgbranch_proxy_wake_failures_total", "counter", "Wakes the directory failed (the compute did not start).");
        sorted.forEach((b, m) -> sample(out, "pgbranch_proxy_wake_failures_total", b, m.wakeFailures.sum()));
        header(out, "pgbranch_proxy_suspends_total", "counter", "Computes suspended after the idle timeout.");
        sorted.forEach((b, m) -> sample(out, "pgbranch_proxy_suspends_total", b, m.suspends.sum()));
        header(out, "pgbranch_proxy_wake_seconds", "histogram", "Time from wake request to compute address.");
        sorted.forEach((b, m) -> {
            String label = "branch=\"" + escape(b) + "\"";
            for (int i = 0; i < WAKE_BUCKETS.length; i++) {
                out.append("pgbranch_proxy_wake_seconds_bucket{").append(label).append(",le=\"").append(WAKE_BUCKETS[i])
                        .append("\"} ").append(m.wakeBuckets[i].sum()).append('\n');
            }
            long count = m.wakeCount.sum();
            out.append("pgbranch_proxy_wake_seconds_bucket{").append(label).append(",le=\"+Inf\"} ").append(count).append('\n');
            out.append("pgbranch_proxy_wake_seconds_sum{").append(label).append("} ").append(m.wakeSecondsSum.sum()).append('\n');
            out.append("pgbranch_proxy_wake_seconds_count{").append(label).append("} ").append(count).append('\n');
        });
        header(out, "pgbranch_proxy_bytes_total", "counter", "Bytes spliced, by direction.");
        sorted.forEach((b, m) -> {
            String label = "branch=\"" + escape(b) + "\"";
            out.append("pgbranch_proxy_bytes_total{").append(label).append(",direction=\"client_to_compute\"} ")
                    .append(m.bytesFromClient.sum()).append('\n');
            out.append("pgbranch_proxy_bytes_total{").append(label).append(",direction=\"compute_to_client\"} ")
                    .append(m.bytesFromCompute.sum()).append('\n');
        });
        header(out, "pgbranch_proxy_errors_total", "counter", "FATAL errors the proxy sent, by SQLSTATE.");
        new TreeMap<>(errors).forEach((code, n) ->
                out.append("pgbranch_proxy_errors_total{sqlstate=\"").append(code).append("\"} ").append(n.sum()).append('\n'));
        header(out, "pgbranch_proxy_cancel_requests_total", "counter", "CancelRequests received, by outcome.");
        out.append("pgbranch_proxy_cancel_requests_total{result=\"forwarded\"} ").append(cancelsForwarded.sum()).append('\n');
        out.append("pgbranch_proxy_cancel_requests_total{result=\"unmatched\"} ").append(cancelsUnmatched.sum()).append('\n');
        header(out, "pgbranch_proxy_tls_handshakes_total", "counter", "Completed TLS handshakes.");
        out.append("pgbranch_proxy_tls_handshakes_total ").append(tlsHandshakes.sum()).append('\n');
        header(out, "pgbranch_proxy_handoffs_total", "counter",
                "Branch ports handed to a running compute's socket by the kernel, by outcome.");
        out.append("pgbranch_proxy_handoffs_total{result=\"steered\"} ").append(handoffs.sum()).append('\n');
        out.append("pgbranch_proxy_handoffs_total{result=\"relayed\"} ").append(handoffFailures.sum()).append('\n');
        return out.toString();
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String branch, long value) {
        out.append(name).append("{branch=\"").append(escape(branch)).append("\"} ").append(value).append('\n');
    }

    /** Label value escaping of the text format: backslash, double quote and line feed. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
