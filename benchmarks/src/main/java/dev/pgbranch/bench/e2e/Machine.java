package dev.pgbranch.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The conditions every figure is measured under, attached to each result row: CPU count and
 * model, RAM, kernel, PostgreSQL version, the filesystem under the temporary directory, load
 * averages, and per-side settings read back from the running servers ({@code fsync},
 * {@code shared_buffers}, ...).
 *
 * <p>Thread-safety: not thread-safe; filled by the driver thread, then read.
 */
final class Machine {

    private final Map<String, Object> facts = new LinkedHashMap<>();

    /** Detects what the OS reports; {@code bin} is the Postgres binary directory both sides use. */
    static Machine detect(Path bin, Path tempRoot, String note) {
        Machine machine = new Machine();
        machine.facts.put("nproc", Runtime.getRuntime().availableProcessors());
        machine.facts.put("cpu", firstMatch(Path.of("/proc/cpuinfo"), "model name"));
        machine.facts.put("ramBytes", memTotalBytes());
        machine.facts.put("kernel", read(Path.of("/proc/sys/kernel/osrelease")));
        Commands.Result version = Commands.run(List.of(bin.resolve("postgres").toString(), "--version"), Map.of(),
                Path.of("/"), Duration.ofSeconds(30));
        machine.facts.put("postgres", version.output().strip());
        machine.facts.put("filesystem", filesystemOf(tempRoot));
        machine.facts.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        machine.facts.put("loadAverageAtStart", read(Path.of("/proc/loadavg")));
        if (note != null && !note.isBlank()) {
            machine.facts.put("note", note);
        }
        return machine;
    }

    void put(String name, Object value) {
        facts.put(name, value);
    }

    Object get(String name) {
        return facts.get(name);
    }

    /** A copy, for a result row or the report. */
    Map<String, Object> snapshot() {
        return new LinkedHashMap<>(facts);
    }

    void finish() {
        facts.put("loadAverageAtEnd", read(Path.of("/proc/loadavg")));
    }

    private static long memTotalBytes() {
        String kb = firstMatch(Path.of("/proc/meminfo"), "MemTotal").replace("kB", "").strip();
        try {
            return Long.parseLong(kb) * 1024;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String firstMatch(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            // reported as unknown
        }
        return "unknown";
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Type and device of the filesystem holding {@code path} (the longest mount point prefix). */
    private static String filesystemOf(Path path) {
        String best = "";
        String answer = "unknown";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && path.toString().startsWith(f[1]) && f[1].length() > best.length()) {
                    best = f[1];
                    answer = f[2] + " on " + f[0] + " (mounted at " + f[1] + ")";
                }
            }
        } catch (IOException e) {
            // unknown
        }
        return answer;
    }
}
