package dev.pgbranch.bench.jmh_generated;
public class CompactionBenchmark_jmhType extends CompactionBenchmark_jmhType_B3 {
}

