package dev.pgbranch.pageserver.fuse;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The caller of the current FUSE request, read through a downcall to libfuse's
 * {@code fuse_get_context()} (jfuse does not expose it). New files and directories take the
 * caller's uid/gid, as on a local filesystem.
 *
 * <pre>
 * struct fuse_context {          offset
 *     struct fuse *fuse;          0
 *     uid_t uid;                  8
 *     gid_t gid;                 12
 *     pid_t pid;                 16
 *     void *private_data;        24
 *     mode_t umask;              32
 * };                             40 bytes (LP64)
 * </pre>
 *
 * <p>Thread-safety: safe; libfuse keeps the context per thread, valid only inside an upcall.
 */
@SuppressWarnings("restricted") // FFM downcall into libfuse3, the module runs with native access enabled
final class FuseContext {

    private static final long UID_OFFSET = 8;
    private static final long GID_OFFSET = 12;
    private static final long PID_OFFSET = 16;
    private static final long SIZE = 40;

    /** Who issued the request. */
    record Caller(int uid, int gid, int pid) {
    }

    private final MethodHandle getContext;

    private FuseContext(MethodHandle getContext) {
        this.getContext = getContext;
    }

    /** Binds to {@code fuse_get_context} in the given libfuse3. */
    static FuseContext bind(Path library) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        MemorySegment symbol = lookup.find("fuse_get_context")
                .orElseThrow(() -> new IllegalStateException("fuse_get_context not found in " + library));
        MethodHandle handle = Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.ADDRESS));
        return new FuseContext(handle);
    }

    /** The caller of the request being served on this thread. */
    Caller caller() {
        MemorySegment context;
        try {
            context = (MemorySegment) getContext.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("fuse_get_context failed", t);
        }
        if (context.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("fuse_get_context called outside a FUSE request");
        }
        MemorySegment fields = context.reinterpret(SIZE);
        return new Caller(fields.get(ValueLayout.JAVA_INT, UID_OFFSET), fields.get(ValueLayout.JAVA_INT, GID_OFFSET),
                fields.get(ValueLayout.JAVA_INT, PID_OFFSET));
    }
}
