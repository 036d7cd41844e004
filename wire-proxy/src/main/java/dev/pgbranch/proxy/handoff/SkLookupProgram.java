package dev.pgbranch.proxy.handoff;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The BPF {@code sk_lookup} program that steers one port: for a new IPv4 TCP connection to
 * {@code port}, it takes the socket in slot 0 of a one-slot SOCKMAP (the compute's listening socket)
 * and assigns the connection to it; in every other case, and when the slot is empty (the compute
 * closed its socket), the kernel's normal lookup goes on and the proxy's own listener accepts.
 *
 * <pre>
 *   r6 = ctx
 *   if ctx.family != AF_INET (2)       goto pass        struct bpf_sk_lookup: family @8,
 *   if ctx.protocol != IPPROTO_TCP (6) goto pass          protocol @12, local_port @60 (host order)
 *   if ctx.local_port != port          goto pass
 *   *(u32 *)(fp - 4) = 0                                  the map key
 *   r0 = bpf_map_lookup_elem(map, fp - 4)                 a referenced socket, or NULL
 *   if r0 == 0                         goto pass
 *   r7 = r0
 *   bpf_sk_assign(ctx, r7, 0)                             the connection goes to that socket
 *   bpf_sk_release(r7)                                    the verifier demands the reference back
 * pass:
 *   return SK_PASS (1)
 * </pre>
 *
 * 23 instructions: small enough to write out here, so no compiler or object file is needed.
 * Stateless; thread-safe.
 */
final class SkLookupProgram {

    static final int BPF_PROG_TYPE_SK_LOOKUP = 30;
    static final int BPF_SK_LOOKUP = 36;

    /** Instruction count, and the index of "return SK_PASS" that every miss jumps to. */
    private static final int INSTRUCTIONS = 23;
    private static final int PASS = 21;

    private static final int FUNC_MAP_LOOKUP_ELEM = 1;
    private static final int FUNC_SK_RELEASE = 86;
    private static final int FUNC_SK_ASSIGN = 124;
    private static final int PSEUDO_MAP_FD = 1;

    // Opcodes (class | size/source | operation), from the kernel's bpf.h.
    private static final int MOV64_REG = 0xbf;
    private static final int MOV64_IMM = 0xb7;
    private static final int ADD64_IMM = 0x07;
    private static final int LDX_W = 0x61;
    private static final int ST_W = 0x62;
    private static final int LD_IMM64 = 0x18;
    private static final int JNE_IMM = 0x55;
    private static final int JEQ_IMM = 0x15;
    private static final int CALL = 0x85;
    private static final int EXIT = 0x95;

    private static final int R0 = 0;
    private static final int R1 = 1;
    private static final int R2 = 2;
    private static final int R3 = 3;
    private static final int R6 = 6;
    private static final int R7 = 7;
    private static final int FP = 10;

    private SkLookupProgram() {
    }

    /** The program's instructions, 8 bytes each, little-endian, for {@code port} and the SOCKMAP {@code mapFd}. */
    static byte[] instructions(int port, int mapFd) {
        ByteBuffer b = ByteBuffer.allocate(INSTRUCTIONS * 8).order(ByteOrder.LITTLE_ENDIAN);
        insn(b, MOV64_REG, R6, R1, 0, 0);
        insn(b, LDX_W, R2, R1, 8, 0);
        insn(b, JNE_IMM, R2, 0, jump(2, PASS), 2);
        insn(b, LDX_W, R2, R1, 12, 0);
        insn(b, JNE_IMM, R2, 0, jump(4, PASS), 6);
        insn(b, LDX_W, R2, R1, 60, 0);
        insn(b, JNE_IMM, R2, 0, jump(6, PASS), port);
        insn(b, ST_W, FP, 0, -4, 0);
        insn(b, MOV64_REG, R2, FP, 0, 0);
        insn(b, ADD64_IMM, R2, 0, 0, -4);
        insn(b, LD_IMM64, R1, PSEUDO_MAP_FD, 0, mapFd);
        insn(b, 0, 0, 0, 0, 0); // second half of the 64-bit immediate
        insn(b, CALL, 0, 0, 0, FUNC_MAP_LOOKUP_ELEM);
        insn(b, JEQ_IMM, R0, 0, jump(13, PASS), 0);
        insn(b, MOV64_REG, R7, R0, 0, 0);
        insn(b, MOV64_REG, R1, R6, 0, 0);
        insn(b, MOV64_REG, R2, R7, 0, 0);
        insn(b, MOV64_IMM, R3, 0, 0, 0);
        insn(b, CALL, 0, 0, 0, FUNC_SK_ASSIGN);
        insn(b, MOV64_REG, R1, R7, 0, 0);
        insn(b, CALL, 0, 0, 0, FUNC_SK_RELEASE);
        // index PASS:
        insn(b, MOV64_IMM, R0, 0, 0, 1);
        insn(b, EXIT, 0, 0, 0, 0);
        assert b.position() == b.capacity();
        return b.array();
    }

    private static short jump(int from, int to) {
        return (short) (to - from - 1);
    }

    private static void insn(ByteBuffer b, int opcode, int dst, int src, int offset, int imm) {
        b.put((byte) opcode).put((byte) (src << 4 | dst)).putShort((short) offset).putInt(imm);
    }
}
