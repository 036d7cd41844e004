package dev.pgbranch.pageserver.durability;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real {@code pgbench} binary against a branch through the proxy: {@link #initialize} (TPC-B
 * tables) and {@link #start} (TPC-B-like transactions in the background until its connections
 * die or it is stopped). Its output goes to a file, kept for failure messages.
 *
 * <p>Thread-safety: one instance per background run, used from one thread.
 */
final class PgbenchLoad implements AutoCloseable {

    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");

    private final Process process;
    private final Path output;

    private PgbenchLoad(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** {@code pgbench -i -s scale}; fails with its output unless it succeeds. */
    static void initialize(Path pgbench, URI branch, int scale) throws IOException, InterruptedException {
        Path output = Files.createTempFile("pgbench-init", ".log");
        try {
            Process init = builder(pgbench, branch, List.of("-i", "-q", "-s", Integer.toString(scale)), output).start();
            if (!init.waitFor(5, TimeUnit.MINUTES) || init.exitValue() != 0) {
                init.destroyForcibly();
                throw new AssertionError("pgbench -i failed: " + Files.readString(output, StandardCharsets.UTF_8));
            }
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** {@code pgbench -c clients -j 1 -T seconds -n} in the background. */
    static PgbenchLoad start(Path pgbench, URI branch, int clients, int seconds) throws IOException {
        Path output = Files.createTempFile("pgbench-run", ".log");
        Process process = builder(pgbench, branch, List.of("-n", "-c", Integer.toString(clients), "-j", "1",
                "-T", Integer.toString(seconds)), output).start();
        return new PgbenchLoad(process, output);
    }

    private static ProcessBuilder builder(Path pgbench, URI branch, List<String> args, Path output) {
        List<String> command = new ArrayList<>(List.of(pgbench.toString(), "-h", branch.getHost(),
                "-p", Integer.toString(branch.getPort()), "-U", branch.getUserInfo().split(":", 2)[0]));
        command.addAll(args);
        command.add(branch.getPath().substring(1));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().put("PGPASSWORD", branch.getUserInfo().split(":", 2)[1]);
        builder.environment().put("PGSSLMODE", "disable");
        return builder;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for pgbench to end (its server was killed), killing it after {@code seconds}. */
    void awaitExit(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Transactions pgbench reports as processed (0 if it printed no summary). */
    long transactions() throws IOException {
        Matcher m = PROCESSED.matcher(output());
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    String output() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(output);
    }
}
