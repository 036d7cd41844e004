package dev.pgbranch.proxy.handoff;

/**
 * The kernel would not steer a port to a compute's socket. The proxy then relays the port's
 * connections itself, which is slower but complete.
 */
public final class HandoffException extends Exception {

    /** Why the hand-off is not possible. */
    public enum Reason {
        /** Loading BPF programs needs CAP_BPF and CAP_NET_ADMIN (root, here); so does taking a socket of another process. */
        NOT_PERMITTED,
        /** The kernel has no BPF {@code sk_lookup} (before Linux 5.9, or BPF disabled), or this is not Linux x86-64. */
        UNSUPPORTED,
        /** The compute process has no TCP socket listening on the expected address. */
        NO_LISTENER,
        /** Any other failure of a system call, with its errno. */
        FAILED
    }

    private final Reason reason;

    HandoffException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    HandoffException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
