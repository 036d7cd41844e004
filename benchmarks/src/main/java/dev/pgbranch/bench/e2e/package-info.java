/**
 * End-to-end benchmark driver: measures pgbranch the way a user meets it (the {@code ./pgbranch}
 * server, its HTTP API, branch computes reached through the connection string the API hands out,
 * {@code pgbench} and pgjdbc as clients) and puts each figure next to its reference measured in
 * the same run on plain PostgreSQL on local disk ({@code CREATE DATABASE ... TEMPLATE},
 * {@code pg_ctl start}, {@code pgbench}, {@code du}). Entry point: {@link
 * dev.pgbranch.bench.e2e.EndToEndBenchmark}, run by {@code scripts/bench}.
 */
package dev.pgbranch.bench.e2e;
