package dev.pgbranch.proxy.handoff;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Kernel hand-off of a branch's stable port: new TCP connections to 127.0.0.1:{@code port} are
 * delivered by the kernel straight to a compute's own listening socket, so the session never
 * passes through the proxy (no relay, no copy, no extra wakeups). Built on BPF {@code sk_lookup}
 * (Linux 5.9+), set up with raw {@code bpf(2)} calls through FFM:
 *
 * <ol>
 *   <li>a one-slot SOCKMAP holding the compute's listening socket (duplicated from the postmaster
 *       with {@code pidfd_getfd}, then closed here so that the socket's life stays the postmaster's);</li>
 *   <li>the {@link SkLookupProgram} for the port, referring to that map;</li>
 *   <li>a BPF link attaching the program to this network namespace.</li>
 * </ol>
 *
 * <p>The proxy keeps listening on the port the whole time: connections the program does not steer
 * reach it as before. That is the fallback on every path: while the compute is suspended (no
 * steering), after it exits or crashes (the kernel drops a closed socket from the SOCKMAP, so the
 * program finds the slot empty), and when {@link Steering#close()} detaches the link. Established
 * sessions are never moved either way. If this JVM dies, its descriptors close and the links with
 * them: nothing outlives the proxy.
 *
 * <p>A steered session's local address is the branch port, not the compute's, so the compute's
 * {@code inet_server_port()} and the kernel's socket tables show the port the client dialled.
 *
 * <p>Needs CAP_BPF, CAP_NET_ADMIN and the right to take another process's descriptor (root here);
 * {@link #probe()} tells up front. Thread-safe: instances hold no state.
 */
public final class PortSteering {

    private static final int BPF_MAP_CREATE = 0;
    private static final int BPF_MAP_UPDATE_ELEM = 2;
    private static final int BPF_PROG_LOAD = 5;
    private static final int BPF_LINK_CREATE = 28;
    private static final int BPF_MAP_TYPE_SOCKMAP = 15;
    /** Room for every {@code union bpf_attr} field used here; the kernel accepts a larger zero-filled tail. */
    private static final int ATTR_SIZE = 128;
    private static final int LOG_SIZE = 1 << 16;

    private PortSteering() {
    }

    /** One port steered to one socket; closing it detaches the program. Idempotent close; thread-safe. */
    public static final class Steering implements AutoCloseable {
        private final int port;
        private int link;

        private Steering(int port, int link) {
            this.port = port;
            this.link = link;
        }

        public int port() {
            return port;
        }

        @Override
        public synchronized void close() {
            Syscalls.close(link);
            link = -1;
        }
    }

    /**
     * Checks that this process can load and attach an {@code sk_lookup} program, with one that
     * matches no port.
     *
     * @throws HandoffException saying why not (not root, old kernel, ...)
     */
    public static void probe() throws HandoffException {
        Syscalls.check();
        int map = createMap();
        try {
            int program = load(0, map);
            try {
                Syscalls.close(attach(program));
            } finally {
                Syscalls.close(program);
            }
        } finally {
            Syscalls.close(map);
        }
    }

    /**
     * Steers new connections to 127.0.0.1:{@code port} to the socket that process {@code pid}
     * listens with on 127.0.0.1:{@code targetPort}.
     */
    public static Steering steer(int port, long pid, int targetPort) throws HandoffException {
        if (port <= 0 || port > 65535 || targetPort <= 0 || targetPort > 65535) {
            throw new IllegalArgumentException("ports out of range: " + port + " -> " + targetPort);
        }
        Syscalls.check();
        int map = createMap();
        try {
            int socket = ListeningSocket.duplicate(pid, targetPort);
            try {
                putSocket(map, socket);
            } finally {
                // The SOCKMAP holds the socket itself; a descriptor here would keep it listening
                // after the postmaster exits.
                Syscalls.close(socket);
            }
            int program = load(port, map);
            try {
                return new Steering(port, attach(program));
            } finally {
                Syscalls.close(program); // the link holds the program, the program holds the map
            }
        } finally {
            Syscalls.close(map);
        }
    }

    private static int createMap() throws HandoffException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE);
            attr.set(ValueLayout.JAVA_INT, 0, BPF_MAP_TYPE_SOCKMAP);
            attr.set(ValueLayout.JAVA_INT, 4, 4);  // key: u32 slot
            attr.set(ValueLayout.JAVA_INT, 8, 8);  // value: u64 socket descriptor
            attr.set(ValueLayout.JAVA_INT, 12, 1); // one slot
            return Syscalls.bpf(BPF_MAP_CREATE, attr, "bpf(BPF_MAP_CREATE, SOCKMAP)");
        }
    }

    private static void putSocket(int map, int socket) throws HandoffException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
            value.set(ValueLayout.JAVA_LONG, 0, socket);
            MemorySegment attr = arena.allocate(ATTR_SIZE);
            attr.set(ValueLayout.JAVA_INT, 0, map);
            attr.set(ValueLayout.JAVA_LONG, 8, key.address());
            attr.set(ValueLayout.JAVA_LONG, 16, value.address());
            Syscalls.bpf(BPF_MAP_UPDATE_ELEM, attr, "bpf(BPF_MAP_UPDATE_ELEM)");
        }
    }

    private static int load(int port, int map) throws HandoffException {
        try (Arena arena = Arena.ofConfined()) {
            byte[] code = SkLookupProgram.instructions(port, map);
            MemorySegment insns = arena.allocate(code.length, 8);
            insns.copyFrom(MemorySegment.ofArray(code));
            MemorySegment license = arena.allocateFrom("GPL");
            MemorySegment log = arena.allocate(LOG_SIZE);
            MemorySegment attr = arena.allocate(ATTR_SIZE);
            attr.set(ValueLayout.JAVA_INT, 0, SkLookupProgram.BPF_PROG_TYPE_SK_LOOKUP);
            attr.set(ValueLayout.JAVA_INT, 4, code.length / 8);
            attr.set(ValueLayout.JAVA_LONG, 8, insns.address());
            attr.set(ValueLayout.JAVA_LONG, 16, license.address());
            attr.set(ValueLayout.JAVA_INT, 24, 1); // log level: the verifier explains a refusal
            attr.set(ValueLayout.JAVA_INT, 28, LOG_SIZE);
            attr.set(ValueLayout.JAVA_LONG, 32, log.address());
            MemorySegment.copy(MemorySegment.ofArray("pgbranch_port".getBytes(StandardCharsets.US_ASCII)), 0, attr, 48, 13);
            attr.set(ValueLayout.JAVA_INT, 68, SkLookupProgram.BPF_SK_LOOKUP); // expected attach type
            try {
                return Syscalls.bpf(BPF_PROG_LOAD, attr, "bpf(BPF_PROG_LOAD, sk_lookup)");
            } catch (HandoffException e) {
                String verifier = log.getString(0).strip();
                if (e.reason() == HandoffException.Reason.FAILED && verifier.isEmpty()) {
                    // No verifier output: the kernel does not know the program type.
                    throw new HandoffException(HandoffException.Reason.UNSUPPORTED, e.getMessage()
                            + ": this kernel has no BPF sk_lookup", e);
                }
                throw verifier.isEmpty() ? e : new HandoffException(e.reason(), e.getMessage() + "; verifier: " + verifier, e);
            }
        }
    }

    private static int attach(int program) throws HandoffException {
        int netns = -1;
        try (Arena arena = Arena.ofConfined()) {
            netns = openNetworkNamespace(arena);
            MemorySegment attr = arena.allocate(ATTR_SIZE);
            attr.set(ValueLayout.JAVA_INT, 0, program);
            attr.set(ValueLayout.JAVA_INT, 4, netns);
            attr.set(ValueLayout.JAVA_INT, 8, SkLookupProgram.BPF_SK_LOOKUP);
            return Syscalls.bpf(BPF_LINK_CREATE, attr, "bpf(BPF_LINK_CREATE, netns)");
        } finally {
            Syscalls.close(netns);
        }
    }

    private static int openNetworkNamespace(Arena arena) throws HandoffException {
        return Syscalls.open(arena.allocateFrom("/proc/self/ns/net"));
    }
}
