package dev.pgbranch.pageserver.compute;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The OS user computes run as. Postgres refuses to run as root, so a root pageserver runs them
 * as the {@code postgres} user (switching with {@code setpriv}, which execs in place: the pid we
 * get is Postgres's own); otherwise they run as the pageserver's own user.
 *
 * <p>Thread-safety: immutable.
 */
public final class ComputeUser {

    private static final Path PASSWD = Path.of("/etc/passwd");
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private final String name;
    private final int uid;
    private final int gid;
    private final Path home;
    private final boolean switchUser;

    private ComputeUser(String name, int uid, int gid, Path home, boolean switchUser) {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
        this.home = home;
        this.switchUser = switchUser;
    }

    /** {@code postgres} when the JVM runs as root, else the JVM's own user. */
    public static ComputeUser detect() throws ComputeException {
        int self = effectiveUid();
        if (self == 0) {
            return named("postgres");
        }
        for (String[] entry : passwd()) {
            if (Integer.parseInt(entry[2]) == self) {
                return new ComputeUser(entry[0], self, Integer.parseInt(entry[3]), Path.of(entry[5]), false);
            }
        }
        return new ComputeUser(System.getProperty("user.name"), self, effectiveGid(),
                Path.of(System.getProperty("user.home")), false);
    }

    /** The user {@code name} from {@code /etc/passwd}; switching to it requires running as root. */
    public static ComputeUser named(String name) throws ComputeException {
        int self = effectiveUid();
        for (String[] entry : passwd()) {
            if (entry[0].equals(name)) {
                int uid = Integer.parseInt(entry[2]);
                if (uid == 0) {
                    throw new ComputeException("computes cannot run as root (Postgres refuses to)");
                }
                if (uid != self && self != 0) {
                    throw new ComputeException("running computes as " + name + " needs root; the server runs as uid " + self);
                }
                if (uid != self && !Files.isExecutable(SETPRIV)) {
                    throw new ComputeException(SETPRIV + " (util-linux) is needed to run computes as " + name);
                }
                return new ComputeUser(name, uid, Integer.parseInt(entry[3]), Path.of(entry[5]), uid != self);
            }
        }
        throw new ComputeException("OS user '" + name + "' does not exist (install the postgresql package, "
                + "which creates it, or run the server as an ordinary user)");
    }

    public String name() {
        return name;
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    /** Whether commands must switch user (the JVM runs as someone else, i.e. root). */
    public boolean switchesUser() {
        return switchUser;
    }

    /** {@code command} wrapped so that it runs as this user. */
    List<String> command(List<String> command) {
        if (!switchUser) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid=" + uid, "--regid=" + gid,
                "--clear-groups"));
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * The environment for commands of this user: the user's HOME/USER/LOGNAME, a UTF-8 C locale,
     * and no inherited {@code PG*} variable that could redirect a tool to another server.
     */
    Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", home.toString());
        env.put("USER", name);
        env.put("LOGNAME", name);
        env.put("LC_ALL", "C.UTF-8");
        env.put("LANG", "C.UTF-8");
        return env;
    }

    /** Applies {@link #environment()} to a builder, removing inherited PG* variables. */
    void configure(ProcessBuilder builder) {
        builder.environment().keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("LC_"));
        builder.environment().putAll(environment());
    }

    /** Changes {@code path}'s owner to this user (no-op when no switch is needed). */
    void own(Path path) throws IOException {
        if (switchUser) {
            Files.setAttribute(path, "unix:uid", uid);
            Files.setAttribute(path, "unix:gid", gid);
        }
    }

    private static List<String[]> passwd() throws ComputeException {
        try {
            List<String[]> entries = new ArrayList<>();
            for (String line : Files.readAllLines(PASSWD)) {
                String[] fields = line.split(":", -1);
                if (fields.length >= 7 && !line.startsWith("#")) {
                    entries.add(fields);
                }
            }
            return entries;
        } catch (IOException | NumberFormatException e) {
            throw new ComputeException("cannot read " + PASSWD + ": " + e.getMessage(), e);
        }
    }

    static int effectiveUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self", e);
        }
    }

    private static int effectiveGid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self", e);
        }
    }

    @Override
    public String toString() {
        return name + " (" + uid + ":" + gid + ")";
    }
}
