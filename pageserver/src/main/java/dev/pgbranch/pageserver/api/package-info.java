/**
 * The management API: HTTP/JSON on 127.0.0.1 behind a bearer token
 * ({@link dev.pgbranch.pageserver.api.ApiServer}), Prometheus metrics, and the
 * {@code server.json} file clients use to find a running server.
 */
package dev.pgbranch.pageserver.api;
