package dev.pgbranch.bench.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs external commands (initdb, pg_ctl, pgbench, du) with a deadline and captures their output;
 * commands of the Postgres server itself run as the OS user {@code postgres} when this JVM is root
 * (Postgres refuses to run as root). Inherited {@code PG*} variables are removed so that no client
 * tool is silently redirected to another server.
 *
 * <p>Thread-safety: stateless.
 */
final class Commands {

    /** The OS user that runs plain-cluster server commands when this JVM is root. */
    static final String POSTGRES_USER = "postgres";

    private Commands() {
    }

    /** Exit code, merged stdout+stderr and wall-clock time of one command. */
    record Result(int exitCode, String output, long nanos) {

        boolean succeeded() {
            return exitCode == 0;
        }

        /** The last {@code lines} lines of the output, for error messages. */
        String tail(int lines) {
            String[] all = output.strip().split("\n");
            return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
        }
    }

    static boolean runningAsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self", e);
        }
    }

    /** {@code command} wrapped to run as {@link #POSTGRES_USER} if this JVM is root. */
    static List<String> asPostgres(List<String> command) {
        if (!runningAsRoot()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", POSTGRES_USER, "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Runs {@code command} in {@code directory} and returns its result; throws only if it cannot start or times out. */
    static Result run(List<String> command, Map<String, String> environment, Path directory, Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(directory.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("PG"));
        builder.environment().putAll(environment);
        long start = System.nanoTime();
        Process process;
        try {
            process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new BenchException("cannot run " + command.getFirst() + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> copy(process.getInputStream(), output));
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
                throw new BenchException(String.join(" ", redacted(command)) + " did not finish within " + timeout);
            }
            long nanos = System.nanoTime() - start;
            reader.join(Duration.ofSeconds(30));
            String text;
            synchronized (output) {
                text = output.toString(StandardCharsets.UTF_8);
            }
            return new Result(process.exitValue(), text, nanos);
        } catch (InterruptedException e) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new BenchException("interrupted while running " + command.getFirst(), e);
        }
    }

    /** Like {@link #run} but a non-zero exit is a {@link BenchException} naming {@code step}. */
    static Result check(String step, List<String> command, Map<String, String> environment, Path directory,
            Duration timeout) {
        Result result = run(command, environment, directory, timeout);
        if (!result.succeeded()) {
            throw new BenchException(step + " failed (exit " + result.exitCode() + "): " + result.tail(15));
        }
        return result;
    }

    /** The command for messages: arguments that look like connection strings lose their password. */
    static List<String> redacted(List<String> command) {
        return command.stream().map(a -> a.replaceAll("(postgres(?:ql)?://[^:/@]*:)[^@]*@", "$1***@")).toList();
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buffer = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (out) {
                    out.write(buffer, 0, n);
                }
            }
        } catch (IOException e) {
            // the process went away: what was read is kept
        }
    }
}
