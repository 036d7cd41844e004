/**
 * JMH benchmarks of the storage engine: GetPage@LSN by ancestor depth and source, read
 * amplification before and after compaction, branch creation and reset by parent size, write +
 * sync by writer count, flush and compaction throughput. The suite runner ({@code scripts/bench
 * --only jmh}) picks their parameters; {@code java -jar benchmarks/target/benchmarks.jar} runs
 * them with the defaults in their annotations.
 */
package dev.pgbranch.bench;
