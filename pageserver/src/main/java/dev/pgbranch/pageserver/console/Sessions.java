package dev.pgbranch.pageserver.console;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's browser sessions and one-time login links, in memory only: a server restart
 * logs every browser out (the API token stays the credential that matters).
 *
 * <p>A session is a random 256-bit id (the HttpOnly cookie) with its own random CSRF token,
 * which the page reads from {@code GET /console/session} and sends as {@code X-CSRF-Token} on
 * every mutating request; it expires {@code ttl} after its creation, whatever the activity. A
 * login link is a random 256-bit code, valid once, for {@link #LINK_TTL}.
 *
 * <p>Thread-safe (concurrent maps; expired entries are dropped as they are met).
 */
final class Sessions {

    /** How long a login link printed by {@code pgbranch console} stays usable. */
    static final Duration LINK_TTL = Duration.ofMinutes(5);

    record Session(String id, String csrf, Instant expiresAt) {

        boolean acceptsCsrf(String offered) {
            return offered != null && MessageDigest.isEqual(offered.getBytes(StandardCharsets.US_ASCII),
                    csrf.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public String toString() {
            return "Session[expires " + expiresAt + "]";
        }
    }

    record LoginLink(String code, Instant expiresAt) {

        @Override
        public String toString() {
            return "LoginLink[expires " + expiresAt + "]";
        }
    }

    private final SecureRandom random = new SecureRandom();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Map<String, Instant> links = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final InstantSource clock;

    Sessions(Duration ttl, InstantSource clock) {
        this.ttl = ttl;
        this.clock = clock;
    }

    Duration ttl() {
        return ttl;
    }

    Session open() {
        Session session = new Session(secret(), secret(), clock.instant().plus(ttl));
        sessions.put(session.id(), session);
        return session;
    }

    /** The live session of cookie value {@code id}; an expired one is removed. */
    Optional<Session> find(String id) {
        if (id == null) {
            return Optional.empty();
        }
        Session session = sessions.get(id);
        if (session == null) {
            return Optional.empty();
        }
        if (!clock.instant().isBefore(session.expiresAt())) {
            sessions.remove(id, session);
            return Optional.empty();
        }
        return Optional.of(session);
    }

    void close(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    LoginLink newLink() {
        LoginLink link = new LoginLink(secret(), clock.instant().plus(LINK_TTL));
        links.put(link.code(), link.expiresAt());
        links.entrySet().removeIf(e -> !clock.instant().isBefore(e.getValue()));
        return link;
    }

    /** Consumes a login link: true once for a live code, false after (or if expired or unknown). */
    boolean redeem(String code) {
        if (code == null) {
            return false;
        }
        Instant expiresAt = links.remove(code);
        return expiresAt != null && clock.instant().isBefore(expiresAt);
    }

    private String secret() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
