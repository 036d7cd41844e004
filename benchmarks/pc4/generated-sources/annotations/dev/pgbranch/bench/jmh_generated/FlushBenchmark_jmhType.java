package dev.pgbranch.bench.jmh_generated;
public class FlushBenchmark_jmhType extends FlushBenchmark_jmhType_B3 {
}

