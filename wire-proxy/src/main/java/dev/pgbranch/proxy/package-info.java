/**
 * Netty proxy routing Postgres connections to branch computes.
 *
 * <p>Public surface: {@link dev.pgbranch.proxy.PgProxy} (lifecycle, branch ports, metrics),
 * {@link dev.pgbranch.proxy.ProxyConfig}, and {@link dev.pgbranch.proxy.ComputeDirectory} /
 * {@link dev.pgbranch.proxy.ComputeStartException}, through which the pageserver starts and stops computes.
 *
 * <p>Inside, per client connection:
 * <pre>
 *  client ──► [SslHandler] ─► StartupDecoder ─► ClientSession ─► SpliceHandler ──► compute
 *  client ◄── [SslHandler] ◄─ PgMessageEncoder ◄──────────────── ComputeStartupHandler / SpliceHandler ◄── compute
 * </pre>
 * {@code StartupDecoder}/{@code PgMessageEncoder}/{@code PgMessage} are the wire codec;
 * {@code StartupRouter} picks the branch; {@code BranchComputes} wakes and suspends computes;
 * {@code CancelRegistry} maps the cancel keys clients see to the computes' real ones.
 */
package dev.pgbranch.proxy;
