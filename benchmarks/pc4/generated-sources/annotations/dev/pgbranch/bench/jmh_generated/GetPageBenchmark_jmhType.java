package dev.pgbranch.bench.jmh_generated;
public class GetPageBenchmark_jmhType extends GetPageBenchmark_jmhType_B3 {
}

