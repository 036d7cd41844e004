package dev.pgbranch.proxy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link PgProxy}. Immutable.
 *
 * @param bindHost           address every listening port binds (127.0.0.1 by default)
 * @param routingPort        port of the routing listener (0 picks a free one)
 * @param idleTimeout        a compute with no client connection for this long is suspended
 * @param wakeDeadline       a connection waiting longer than this for its compute fails with 57P03
 * @param tlsCertificate     PEM certificate chain for TLS termination, or null for a generated self-signed one
 * @param tlsPrivateKey      PEM PKCS#8 private key matching {@code tlsCertificate}, or null
 * @param connectTimeout     TCP connect timeout toward a compute, per attempt
 * @param connectAttempts    connect attempts toward a compute (refused / timed out only) before 08006
 * @param startupTimeout     a client that has not completed its startup packet by then is disconnected
 * @param kernelHandoff      whether {@link PgProxy#handOff} may steer branch ports to computes' own sockets
 *                           (on by default; off keeps every session on the relay, for comparison)
 */
public record ProxyConfig(String bindHost, int routingPort, Duration idleTimeout, Duration wakeDeadline,
                          Path tlsCertificate, Path tlsPrivateKey, Duration connectTimeout, int connectAttempts,
                          Duration startupTimeout, boolean kernelHandoff) {

    public ProxyConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(wakeDeadline, "wakeDeadline");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(startupTimeout, "startupTimeout");
        if (routingPort < 0 || routingPort > 65535) {
            throw new IllegalArgumentException("routingPort out of range: " + routingPort);
        }
        if ((tlsCertificate == null) != (tlsPrivateKey == null)) {
            throw new IllegalArgumentException("tlsCertificate and tlsPrivateKey go together");
        }
        if (connectAttempts < 1) {
            throw new IllegalArgumentException("connectAttempts must be at least 1");
        }
        for (Duration d : new Duration[] {idleTimeout, wakeDeadline, connectTimeout, startupTimeout}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("durations must be positive: " + d);
            }
        }
    }

    /** 127.0.0.1, the given routing port, 5 idle minutes, 30 s wake deadline, self-signed TLS, 3 s x 3 connects. */
    public static ProxyConfig defaults(int routingPort) {
        return new ProxyConfig("127.0.0.1", routingPort, Duration.ofMinutes(5), Duration.ofSeconds(30),
                null, null, Duration.ofSeconds(3), 3, Duration.ofSeconds(30), true);
    }

    public ProxyConfig withIdleTimeout(Duration d) {
        return new ProxyConfig(bindHost, routingPort, d, wakeDeadline, tlsCertificate, tlsPrivateKey, connectTimeout,
                connectAttempts, startupTimeout, kernelHandoff);
    }

    public ProxyConfig withWakeDeadline(Duration d) {
        return new ProxyConfig(bindHost, routingPort, idleTimeout, d, tlsCertificate, tlsPrivateKey, connectTimeout,
                connectAttempts, startupTimeout, kernelHandoff);
    }

    public ProxyConfig withTls(Path certificate, Path privateKey) {
        return new ProxyConfig(bindHost, routingPort, idleTimeout, wakeDeadline, certificate, privateKey, connectTimeout,
                connectAttempts, startupTimeout, kernelHandoff);
    }

    public ProxyConfig withStartupTimeout(Duration d) {
        return new ProxyConfig(bindHost, routingPort, idleTimeout, wakeDeadline, tlsCertificate, tlsPrivateKey,
                connectTimeout, connectAttempts, d, kernelHandoff);
    }

    public ProxyConfig withKernelHandoff(boolean enabled) {
        return new ProxyConfig(bindHost, routingPort, idleTimeout, wakeDeadline, tlsCertificate, tlsPrivateKey,
                connectTimeout, connectAttempts, startupTimeout, enabled);
    }
}
