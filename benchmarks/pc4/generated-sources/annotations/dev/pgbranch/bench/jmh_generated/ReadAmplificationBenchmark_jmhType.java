package dev.pgbranch.bench.jmh_generated;
public class ReadAmplificationBenchmark_jmhType extends ReadAmplificationBenchmark_jmhType_B3 {
}

