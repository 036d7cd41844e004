package dev.pgbranch.bench.jmh_generated;
public class BranchCreationBenchmark_jmhType extends BranchCreationBenchmark_jmhType_B3 {
}

