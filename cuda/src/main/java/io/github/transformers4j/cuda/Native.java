package io.github.transformers4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * FFM plumbing shared by the bindings. Opaque handles (contexts, streams, descriptors) and device pointers are passed
 * as {@code long}: on the 64-bit Linux ABIs a pointer and a 64-bit integer travel the same way, and a {@code long}
 * costs no {@link MemorySegment} object per call.
 */
final class Native {
    static final Linker LINKER = Linker.nativeLinker();

    private Native() {}

    static SymbolLookup open(Path library) {
        return SymbolLookup.libraryLookup(library, Arena.global());
    }

    static MethodHandle downcall(SymbolLookup lib, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lib.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("symbol " + name + " not found in the loaded CUDA library"));
        return LINKER.downcallHandle(symbol, fd);
    }

    /** The handle for {@code name}, or null when the library does not export it (optional, version-dependent API). */
    static MethodHandle downcallOrNull(SymbolLookup lib, String name, FunctionDescriptor fd) {
        return lib.find(name).map(s -> LINKER.downcallHandle(s, fd)).orElse(null);
    }

    /** Reads a NUL-terminated C string that the library owns (error names, version strings). */
    static String cString(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) return "(null)";
        return pointer.reinterpret(4096).getString(0);
    }

    /** Rethrows what a {@code MethodHandle.invokeExact} threw: errors and runtime exceptions as they are. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new CudaException("native call failed: " + t, t);
    }
}
