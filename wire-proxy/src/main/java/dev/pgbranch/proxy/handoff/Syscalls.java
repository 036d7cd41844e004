package dev.pgbranch.proxy.handoff;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few Linux system calls the hand-off needs, called through libc's {@code syscall(2)} with FFM
 * (no native library of our own): {@code bpf(2)}, {@code pidfd_open(2)}, {@code pidfd_getfd(2)},
 * {@code open(2)} and {@code close(2)}. Numbers are those of x86-64; elsewhere {@link #check()} says it is unsupported.
 *
 * <p>Every call returns the non-negative result or throws {@link HandoffException} with the errno
 * mapped to a {@link HandoffException.Reason}. Stateless; thread-safe.
 */
@SuppressWarnings("restricted") // FFM downcalls: the launcher passes --enable-native-access
final class Syscalls {

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ESRCH = 3;
    static final int EACCES = 13;
    static final int EINVAL = 22;
    static final int ENOSYS = 38;
    static final int E2BIG = 7;

    private static final long SYS_OPEN = 2;
    private static final long SYS_CLOSE = 3;
    private static final long SYS_BPF = 321;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final long SYS_PIDFD_GETFD = 438;

    private static final long O_RDONLY_CLOEXEC = 02000000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final boolean X86_64 = "amd64".equals(System.getProperty("os.arch"))
            && System.getProperty("os.name", "").startsWith("Linux");

    /** {@code long syscall(long number, ...)} with three variadic words. */
    private static final MethodHandle SYSCALL3 = X86_64 ? LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno")) : null;

    private Syscalls() {
    }

    /** Throws UNSUPPORTED unless these system call numbers apply. */
    static void check() throws HandoffException {
        if (!X86_64) {
            throw new HandoffException(HandoffException.Reason.UNSUPPORTED, "kernel hand-off is implemented for Linux x86-64 only");
        }
    }

    /** {@code bpf(cmd, attr, attr.byteSize())}: a new fd for the commands that create one, else 0. */
    static int bpf(int cmd, MemorySegment attr, String what) throws HandoffException {
        return (int) call(SYS_BPF, cmd, attr.address(), attr.byteSize(), what);
    }

    /** A pidfd of process {@code pid}. */
    static int pidfdOpen(long pid) throws HandoffException {
        return (int) call(SYS_PIDFD_OPEN, pid, 0, 0, "pidfd_open(" + pid + ")");
    }

    /** A duplicate, in this process, of file descriptor {@code fd} of the process behind {@code pidfd}. */
    static int pidfdGetfd(int pidfd, int fd) throws HandoffException {
        return (int) call(SYS_PIDFD_GETFD, pidfd, fd, 0, "pidfd_getfd(" + fd + ")");
    }

    /** {@code open(path, O_RDONLY | O_CLOEXEC)}; {@code path} is a NUL-terminated native string. */
    static int open(MemorySegment path) throws HandoffException {
        return (int) call(SYS_OPEN, path.address(), O_RDONLY_CLOEXEC, 0, "open(/proc/self/ns/net)");
    }

    /** Closes {@code fd}; errors are ignored (Linux releases the descriptor even when close fails). */
    static void close(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            call(SYS_CLOSE, fd, 0, 0, "close");
        } catch (HandoffException e) {
            // Nothing to do: the descriptor is gone either way.
        }
    }

    private static long call(long number, long a, long b, long c, String what) throws HandoffException {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            long result = (long) SYSCALL3.invokeExact(state, number, a, b, c);
            if (result < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new HandoffException(reason(errno), what + " failed: errno " + errno + " (" + name(errno) + ")");
            }
            return result;
        } catch (HandoffException e) {
            throw e;
        } catch (Throwable t) {
            throw new HandoffException(HandoffException.Reason.FAILED, what + " failed: " + t, t);
        }
    }

    private static HandoffException.Reason reason(int errno) {
        return switch (errno) {
            case EPERM, EACCES -> HandoffException.Reason.NOT_PERMITTED;
            case ENOSYS -> HandoffException.Reason.UNSUPPORTED;
            default -> HandoffException.Reason.FAILED;
        };
    }

    private static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case ESRCH -> "ESRCH";
            case E2BIG -> "E2BIG";
            case EACCES -> "EACCES";
            case EINVAL -> "EINVAL";
            case ENOSYS -> "ENOSYS";
            default -> "errno " + errno;
        };
    }
}
