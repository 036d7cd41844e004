package dev.pgbranch.bench.jmh_generated;
public class IngestBenchmark_jmhType extends IngestBenchmark_jmhType_B3 {
}

