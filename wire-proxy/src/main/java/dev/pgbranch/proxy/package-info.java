/** Netty proxy routing Postgres connections to branch computes. */
package dev.pgbranch.proxy;
