package dev.pgbranch.proxy;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps the cancel keys the proxy hands to clients to the real keys of the compute sessions behind them.
 *
 * <p>A proxy key keeps the backend's real pid and replaces only the secret. Clients rely on that pid:
 * {@code pg_terminate_backend} with the driver's pid, LISTEN/NOTIFY (a NotificationResponse carries
 * the sender's pid; clients drop their own notifications by comparing it with theirs), monitors that
 * join {@code pg_stat_activity} or {@code pg_locks} on it. Computes share one host, so their pids are
 * distinct; the random secret keeps a key from being guessed or replayed once its session is gone,
 * and (pid, secret) is unique even across hosts (a collision is retried with another secret).
 *
 * <p>An entry lives as long as its client connection: it is removed when that channel closes, and
 * {@link #sweep()} drops any entry whose channel is no longer open (so a missed close cannot leak).
 *
 * <p>Thread-safe.
 */
final class CancelRegistry {

    /** Where a proxy-issued key leads. */
    record Target(InetSocketAddress compute, int processId, int secret, String branch, Channel client) {
    }

    private final ConcurrentHashMap<Long, Target> targets = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /**
     * Issues the proxy key for {@code target}: its real pid with a fresh secret, or, with
     * {@code keepSecret}, the compute's own key. Sessions on a branch port keep it: once the port is
     * handed to the compute ({@link PgProxy#handOff}) their cancel requests, sent to the same port,
     * reach the postmaster itself. The entry goes away when the client channel closes.
     */
    PgMessage.BackendKeyData register(Target target, boolean keepSecret) {
        int pid = target.processId();
        if (keepSecret) {
            long key = key(pid, target.secret());
            if (targets.putIfAbsent(key, target) == null) {
                target.client().closeFuture().addListener(_ -> targets.remove(key, target));
                return new PgMessage.BackendKeyData(pid, target.secret());
            }
            // A proxy key of an earlier session already has these 64 bits: issue a fresh secret.
        }
        while (true) {
            int secret = random.nextInt();
            long key = key(pid, secret);
            if (targets.putIfAbsent(key, target) == null) {
                target.client().closeFuture().addListener(_ -> targets.remove(key, target));
                return new PgMessage.BackendKeyData(pid, secret);
            }
        }
    }

    /** The target of a proxy key, or null when unknown, expired or not a 4-byte protocol 3.0 key. */
    Target lookup(int processId, byte[] secret) {
        if (secret.length != 4) {
            return null;
        }
        int s = (secret[0] & 0xFF) << 24 | (secret[1] & 0xFF) << 16 | (secret[2] & 0xFF) << 8 | (secret[3] & 0xFF);
        Target t = targets.get(key(processId, s));
        return t != null && t.client().isOpen() ? t : null;
    }

    /** Removes entries whose client connection is gone; returns how many. */
    int sweep() {
        int before = targets.size();
        targets.values().removeIf(t -> !t.client().isOpen());
        return before - targets.size();
    }

    int size() {
        return targets.size();
    }

    private static long key(int pid, int secret) {
        return (long) pid << 32 | (secret & 0xFFFFFFFFL);
    }
}
