package dev.pgbranch.pageserver.compute;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a short-lived command to completion with a deadline, capturing stdout and stderr together.
 *
 * <p>Thread-safety: stateless.
 */
final class ProcessRunner {

    /** How a command ended. {@code exitCode} is -1 if it was killed at the deadline. */
    record Result(int exitCode, String output) {
        boolean succeeded() {
            return exitCode == 0;
        }
    }

    private ProcessRunner() {
    }

    /** Runs {@code command} as the JVM's user with the JVM's environment. */
    static Result run(List<String> command, Duration timeout) throws IOException {
        return run(new ProcessBuilder(command), timeout);
    }

    /** Runs {@code command} as {@code user}, in that user's environment. */
    static Result run(ComputeUser user, List<String> command, Duration timeout) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(user.command(command));
        user.configure(builder);
        return run(builder, timeout);
    }

    private static Result run(ProcessBuilder builder, Duration timeout) throws IOException {
        List<String> command = builder.command();
        builder.redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> drain(process.getInputStream()),
                runnable -> Thread.ofVirtual().start(runnable));
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                return new Result(-1, output.getNow("") + "\n(killed after " + timeout.toSeconds() + " s)");
            }
            return new Result(process.exitValue(), output.get(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.getFirst(), e);
        } catch (ExecutionException | TimeoutException e) {
            return new Result(process.exitValue(), "(output unavailable: " + e + ")");
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last {@code lines} lines of {@code text}, for error messages. */
    static String tail(String text, int lines) {
        String trimmed = text.strip();
        int at = trimmed.length();
        for (int i = 0; i < lines; i++) {
            at = trimmed.lastIndexOf('\n', at - 1);
            if (at < 0) {
                return trimmed;
            }
        }
        return trimmed.substring(at + 1);
    }
}
