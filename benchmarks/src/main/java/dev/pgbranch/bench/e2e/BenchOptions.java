package dev.pgbranch.bench.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of the driver. {@code --quick} changes the defaults (scales 1 and 10,
 * {@code pgbench -T 10}) and explicit options override either mode.
 *
 * <p>Immutable and thread-safe.
 *
 * @param quick the quick mode's defaults are in effect
 * @param only run only this group (one of {@link #GROUPS}), or null for all but {@code profile}
 * @param skip groups not to run
 * @param tpsScales the scales the TPS group runs at (those of {@code scales} among 10 and the
 *     largest by default)
 * @param scales pgbench scale factors, ascending; branch creation, first query and reset run at
 *     each, TPS and the five-branch storage figure at the largest
 * @param seconds {@code pgbench -T}
 * @param rounds A/B rounds of each pgbench run
 * @param clients {@code pgbench -c}
 * @param threads {@code pgbench -j}
 * @param output results go to {@code output/<timestamp>/}
 * @param launcher the {@code ./pgbranch} launcher
 * @param serverClasspath if not null, the launcher runs these classes ({@code PGBRANCH_CLASSPATH})
 * @param note free text recorded with the conditions (e.g. "machine shared with other jobs")
 */
record BenchOptions(boolean quick, String only, Set<String> skip, List<Integer> scales, List<Integer> tpsScales,
        int seconds, int rounds, int clients, int threads, Path output, Path launcher, String serverClasspath,
        String note, int dataDiffMegabytes) {

    /**
     * The measurement groups {@code --only} and {@code --skip} accept. {@code profile} (JFR and CPU
     * split of a TPC-B run through the proxy) runs only when asked for.
     */
    static final Set<String> GROUPS = Set.of("jmh", "create", "first-query", "reset", "tps", "storage", "data-diff",
            "cli", "profile");

    /** The groups that need the pgbranch server and the plain cluster. */
    static final Set<String> END_TO_END = Set.of("create", "first-query", "reset", "tps", "storage", "data-diff",
            "cli", "profile");

    static final String USAGE = """
            usage: scripts/bench [--quick] [--only GROUP | --skip GROUP,...] [--profile] [options]
              groups: jmh create first-query reset tps storage data-diff cli (all run by default), profile
              --quick               scales 1,10, pgbench -T 5, short JMH (default: scales 1,10,30,60, -T 30)
              --only GROUP          run one group (the pgbench -i loads it needs always run)
              --skip A,B            run every default group but these
              --profile             same as --only profile: JFR of the server and the CPU split of
                                    processes and threads during pgbench TPC-B through the proxy,
                                    then straight to the compute (largest scale, -T --seconds each)
              --scales A,B          pgbench scale factors (branch creation vs size runs at each)
              --tps-scales A,B      scales of the TPS runs (default: 10 and the largest)
              --seconds N           pgbench -T for the TPS runs
              --rounds N            A/B rounds of each TPS run (default 2)
              --clients N           pgbench -c (default 4)
              --threads N           pgbench -j (default 2)
              --output DIR          results go to DIR/<timestamp>/ (default bench-results)
              --pgbranch PATH       the pgbranch launcher (default: ./pgbranch of the repository)
              --server-classpath CP run the server from these classes (PGBRANCH_CLASSPATH)
              --note TEXT           recorded with the machine conditions
              --data-diff-mb N      size of the data-diff table (default 1024, --quick 64)
            """;

    BenchOptions {
        scales = List.copyOf(scales);
        if (scales.isEmpty() || scales.stream().anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException("scales must be positive: " + scales);
        }
        if (only != null && !GROUPS.contains(only)) {
            throw new IllegalArgumentException("--only must be one of " + GROUPS + ", not " + only);
        }
        skip = Set.copyOf(skip);
        for (String group : skip) {
            if (!GROUPS.contains(group)) {
                throw new IllegalArgumentException("--skip takes groups of " + GROUPS + ", not " + group);
            }
        }
        tpsScales = List.copyOf(tpsScales);
        if (tpsScales.stream().anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException("--tps-scales must be positive: " + tpsScales);
        }
        if (dataDiffMegabytes < 1) {
            throw new IllegalArgumentException("--data-diff-mb must be positive");
        }
        if (seconds < 1 || rounds < 1 || clients < 1 || threads < 1 || clients % threads != 0) {
            throw new IllegalArgumentException("--seconds, --rounds, --clients, --threads must be positive "
                    + "and clients a multiple of threads");
        }
    }

    static BenchOptions parse(String... args) {
        boolean quick = List.of(args).contains("--quick");
        String only = null;
        Set<String> skip = new java.util.HashSet<>();
        List<Integer> scales = quick ? List.of(1, 10) : List.of(1, 10, 30, 60);
        List<Integer> tpsScales = null;
        // Quick: pgbench -T 5 keeps the whole quick suite (JMH included) under 5 minutes on 2 cores.
        int seconds = quick ? 5 : 30;
        int rounds = 2;
        int clients = 4;
        int threads = 2;
        Path output = Path.of("bench-results");
        Path launcher = null;
        String classpath = null;
        String note = null;
        int dataDiffMegabytes = quick ? 64 : 1024;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--quick" -> { }
                case "--only" -> only = value(args, ++i, arg);
                case "--profile" -> only = "profile";
                case "--skip" -> skip.addAll(List.of(value(args, ++i, arg).split(",")));
                case "--tps-scales" -> tpsScales = integers(value(args, ++i, arg), arg);
                case "--scales" -> scales = integers(value(args, ++i, arg), arg);
                case "--seconds" -> seconds = integer(value(args, ++i, arg), arg);
                case "--rounds" -> rounds = integer(value(args, ++i, arg), arg);
                case "--clients" -> clients = integer(value(args, ++i, arg), arg);
                case "--threads" -> threads = integer(value(args, ++i, arg), arg);
                case "--output" -> output = Path.of(value(args, ++i, arg));
                case "--pgbranch" -> launcher = Path.of(value(args, ++i, arg));
                case "--server-classpath" -> classpath = value(args, ++i, arg);
                case "--note" -> note = value(args, ++i, arg);
                case "--data-diff-mb" -> dataDiffMegabytes = integer(value(args, ++i, arg), arg);
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (launcher == null) {
            launcher = findLauncher(Path.of("").toAbsolutePath());
        }
        if (!Files.isExecutable(launcher)) {
            throw new IllegalArgumentException(launcher + " is not an executable pgbranch launcher (see --pgbranch)");
        }
        if (tpsScales == null) {
            List<Integer> chosen = scales;
            tpsScales = scales.stream().filter(s -> s == 10 || s.equals(chosen.getLast())).toList();
        }
        return new BenchOptions(quick, only, skip, scales, tpsScales, seconds, rounds, clients, threads,
                output.toAbsolutePath(), launcher.toAbsolutePath(), classpath, note, dataDiffMegabytes);
    }

    /** Whether {@code group} is measured in this run. */
    boolean wants(String group) {
        if (only != null) {
            return only.equals(group);
        }
        return !skip.contains(group) && !group.equals("profile");
    }

    /** Whether any group that needs the pgbranch server and the plain cluster runs. */
    boolean wantsEndToEnd() {
        return END_TO_END.stream().anyMatch(this::wants);
    }

    int largestScale() {
        return scales.getLast();
    }

    Map<String, Object> asMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("quick", quick);
        map.put("only", only == null ? "all" : only);
        map.put("skip", new java.util.TreeSet<>(skip));
        map.put("scales", scales);
        map.put("tpsScales", tpsScales);
        map.put("pgbenchSeconds", seconds);
        map.put("rounds", rounds);
        map.put("clients", clients);
        map.put("threads", threads);
        map.put("dataDiffMegabytes", dataDiffMegabytes);
        map.put("launcher", launcher.toString());
        map.put("serverClasspath", serverClasspath == null ? "the launcher's built jars" : "given by --server-classpath");
        return map;
    }

    /** {@code ./pgbranch} in {@code start} or the nearest ancestor that has one next to a pom.xml. */
    private static Path findLauncher(Path start) {
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("pgbranch");
            if (Files.isRegularFile(candidate) && Files.exists(dir.resolve("pom.xml"))) {
                return candidate;
            }
        }
        return start.resolve("pgbranch");
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static List<Integer> integers(String list, String option) {
        List<Integer> parsed = new ArrayList<>();
        for (String s : list.split(",")) {
            parsed.add(integer(s, option));
        }
        return parsed.stream().sorted().distinct().toList();
    }

    private static int integer(String s, String option) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number, not '" + s + "'");
        }
    }
}
