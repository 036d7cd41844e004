/** JMH benchmarks and end-to-end drivers. */
package dev.pgbranch.bench;
