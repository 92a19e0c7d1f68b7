package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Bindings to NVRTC ({@code libnvrtc.so.13}/.12), the run-time CUDA C++ compiler. */
public final class Nvrtc {
    public static final int NVRTC_SUCCESS = 0;

    /** What one compilation produced: a cubin (machine code) or PTX (NUL-terminated), and the compiler's log. */
    public record Result(byte[] image, boolean cubin, String log) {}

    private static final SymbolLookup LIB = load(libraryPath());

    /** CUDA's NVRTC; without a driver and cuBLASLt (compile checks on a machine with no GPU), NVRTC alone. */
    private static Path libraryPath() {
        try {
            return Cuda.libraries().nvrtc();
        } catch (IllegalStateException e) {
            return CudaLibraries.fromEnvironment().find(CudaLibraries.NVRTC).orElseThrow(() -> e);
        }
    }

    private static MethodHandle h(String name, java.lang.foreign.MemoryLayout... args) {
        return Native.downcall(LIB, name, FunctionDescriptor.of(JAVA_INT, args));
    }

    private static final MethodHandle nvrtcVersion = h("nvrtcVersion", ADDRESS, ADDRESS);
    private static final MethodHandle nvrtcGetErrorString =
            Native.downcall(LIB, "nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle nvrtcCreateProgram =
            h("nvrtcCreateProgram", ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle nvrtcCompileProgram = h("nvrtcCompileProgram", JAVA_LONG, JAVA_INT, ADDRESS);
    private static final MethodHandle nvrtcGetProgramLogSize = h("nvrtcGetProgramLogSize", JAVA_LONG, ADDRESS);
    private static final MethodHandle nvrtcGetProgramLog = h("nvrtcGetProgramLog", JAVA_LONG, ADDRESS);
    private static final MethodHandle nvrtcGetCUBINSize = h("nvrtcGetCUBINSize", JAVA_LONG, ADDRESS);
    private static final MethodHandle nvrtcGetCUBIN = h("nvrtcGetCUBIN", JAVA_LONG, ADDRESS);
    private static final MethodHandle nvrtcGetPTXSize = h("nvrtcGetPTXSize", JAVA_LONG, ADDRESS);
    private static final MethodHandle nvrtcGetPTX = h("nvrtcGetPTX", JAVA_LONG, ADDRESS);
    private static final MethodHandle nvrtcDestroyProgram = h("nvrtcDestroyProgram", ADDRESS);
    private static final MethodHandle nvrtcGetNumSupportedArchs = h("nvrtcGetNumSupportedArchs", ADDRESS);
    private static final MethodHandle nvrtcGetSupportedArchs = h("nvrtcGetSupportedArchs", ADDRESS);

    private Nvrtc() {}

    /**
     * Opens libnvrtc after its companion libnvrtc-builtins from the same folder, so that NVRTC's own dlopen of the
     * builtins (by soname) succeeds even when that folder is on no loader path.
     */
    private static SymbolLookup load(Path nvrtc) {
        Path dir = nvrtc.getParent();
        if (dir != null) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "libnvrtc-builtins.so.*")) {
                for (Path p : ds) {
                    try {
                        Native.open(p);
                        break;
                    } catch (IllegalArgumentException ignored) {
                        // a broken candidate: NVRTC will report the missing builtins itself
                    }
                }
            } catch (IOException ignored) {
                // no listing: rely on the loader path
            }
        }
        return Native.open(nvrtc);
    }

    static void check(String function, int result) {
        if (result != NVRTC_SUCCESS) throw new CudaException(function, result, errorName(result), errorName(result));
    }

    public static String errorName(int result) {
        try {
            return Native.cString((MemorySegment) nvrtcGetErrorString.invokeExact(result));
        } catch (Throwable t) {
            return "nvrtcResult " + result;
        }
    }

    /** {major, minor}, e.g. {13, 0}. */
    public static int[] version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(JAVA_INT);
            MemorySegment minor = a.allocate(JAVA_INT);
            check("nvrtcVersion", (int) nvrtcVersion.invokeExact(major, minor));
            return new int[] {major.get(JAVA_INT, 0), minor.get(JAVA_INT, 0)};
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static String versionString() {
        int[] v = version();
        return v[0] + "." + v[1];
    }

    /** The real architectures this NVRTC can make cubins for, as numbers (75, 80, 86, 89, 90, ...). */
    public static int[] supportedArchs() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(JAVA_INT);
            check("nvrtcGetNumSupportedArchs", (int) nvrtcGetNumSupportedArchs.invokeExact(n));
            MemorySegment archs = a.allocate(JAVA_INT, Math.max(1, n.get(JAVA_INT, 0)));
            check("nvrtcGetSupportedArchs", (int) nvrtcGetSupportedArchs.invokeExact(archs));
            return archs.asSlice(0, 4L * n.get(JAVA_INT, 0)).toArray(JAVA_INT);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Compiles CUDA C++ {@code source}. With {@code --gpu-architecture=sm_XX} among the options the result is a cubin; with
     * {@code compute_XX}, PTX for the driver to compile at load. A compile error throws with NVRTC's log.
     */
    public static Result compile(String source, String name, List<String> options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progPtr = a.allocate(JAVA_LONG);
            check("nvrtcCreateProgram", (int) nvrtcCreateProgram.invokeExact(progPtr, a.allocateFrom(source),
                    a.allocateFrom(name), 0, MemorySegment.NULL, MemorySegment.NULL));
            long prog = progPtr.get(JAVA_LONG, 0);
            try {
                MemorySegment opts = a.allocate(ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) opts.setAtIndex(ADDRESS, i, a.allocateFrom(options.get(i)));
                int rc = (int) nvrtcCompileProgram.invokeExact(prog, options.size(), opts);
                String log = log(a, prog);
                if (rc != NVRTC_SUCCESS) {
                    throw new CudaException("nvrtcCompileProgram", rc, "nvrtcCompileProgram failed for " + name
                            + " with options " + options + ": " + errorName(rc) + " (" + rc + ")\n" + log);
                }
                MemorySegment size = a.allocate(JAVA_LONG);
                check("nvrtcGetCUBINSize", (int) nvrtcGetCUBINSize.invokeExact(prog, size));
                long cubinSize = size.get(JAVA_LONG, 0);
                if (cubinSize > 0) {
                    MemorySegment buf = a.allocate(cubinSize);
                    check("nvrtcGetCUBIN", (int) nvrtcGetCUBIN.invokeExact(prog, buf));
                    return new Result(buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), true, log);
                }
                check("nvrtcGetPTXSize", (int) nvrtcGetPTXSize.invokeExact(prog, size));
                MemorySegment buf = a.allocate(size.get(JAVA_LONG, 0)); // includes the terminating NUL
                check("nvrtcGetPTX", (int) nvrtcGetPTX.invokeExact(prog, buf));
                return new Result(buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), false, log);
            } finally {
                int ignored = (int) nvrtcDestroyProgram.invokeExact(progPtr);
            }
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    private static String log(Arena a, long prog) throws Throwable {
        MemorySegment size = a.allocate(JAVA_LONG);
        check("nvrtcGetProgramLogSize", (int) nvrtcGetProgramLogSize.invokeExact(prog, size));
        long n = size.get(JAVA_LONG, 0);
        if (n <= 1) return "";
        MemorySegment buf = a.allocate(n);
        check("nvrtcGetProgramLog", (int) nvrtcGetProgramLog.invokeExact(prog, buf));
        return buf.getString(0);
    }
}
