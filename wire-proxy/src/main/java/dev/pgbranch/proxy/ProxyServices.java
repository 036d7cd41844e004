package dev.pgbranch.proxy;

import io.netty.handler.ssl.SslContext;

/** What every connection of one {@link PgProxy} shares. Immutable holder of thread-safe parts. */
record ProxyServices(ProxyConfig config, BranchComputes computes, CancelRegistry cancels, ProxyMetrics metrics,
                     SslContext sslContext, Transport transport) {
}
