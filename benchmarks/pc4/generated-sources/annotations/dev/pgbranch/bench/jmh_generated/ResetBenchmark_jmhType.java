package dev.pgbranch.bench.jmh_generated;
public class ResetBenchmark_jmhType extends ResetBenchmark_jmhType_B3 {
}

