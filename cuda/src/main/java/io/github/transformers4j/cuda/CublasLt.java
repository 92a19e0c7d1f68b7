package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cuBLASLt matrix products on one device. {@link #matmul} takes row-major operands (see {@link GemmPlan} for the
 * operand swap that maps them onto cuBLASLt's column-major API), strided batches, transposes, fp32 / tf32 / bf16
 * inputs with fp32 accumulation. Descriptors and the heuristic's algorithm are created once per distinct problem
 * (shapes, strides, types, pointer alignment) and reused; each stream gets its own workspace.
 */
public final class CublasLt implements AutoCloseable {
    // Enum values from cublasLt.h / cublas_api.h (CUDA 12 and 13 agree).
    static final int CUBLAS_STATUS_SUCCESS = 0;
    static final int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
    static final int CUBLASLT_MATMUL_DESC_TRANSA = 3, CUBLASLT_MATMUL_DESC_TRANSB = 4;
    static final int CUBLASLT_MATMUL_DESC_EPILOGUE = 7, CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8;
    /**
     * cublasLtEpilogue_t: plain product; + bias per row of D (column-major); bias gradient of the B operand; max(0, .)
     * of the product, without and with the bias.
     */
    public static final int EPILOGUE_DEFAULT = 1, EPILOGUE_BIAS = 4, EPILOGUE_BGRADB = 512, EPILOGUE_RELU = 2, EPILOGUE_RELU_BIAS = 6;
    static final int CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT = 5, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = 6;
    static final int CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;
    static final int CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,
            CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8;
    /** sizeof(cublasLtMatmulHeuristicResult_t): algo (8 x uint64), size_t workspaceSize, int state, float waves, int[4]. */
    static final long HEURISTIC_RESULT_BYTES = 96;
    static final long ALGO_BYTES = 64;
    /** NVIDIA recommends 32 MiB of workspace on Hopper. */
    public static final long WORKSPACE_BYTES = 32L << 20;

    private static final SymbolLookup LIB = Native.open(Cuda.libraries().cublasLt());

    private static MethodHandle h(String name, MemoryLayout... args) {
        return Native.downcall(LIB, name, FunctionDescriptor.of(JAVA_INT, args));
    }

    private static final MethodHandle cublasLtCreate = h("cublasLtCreate", ADDRESS);
    private static final MethodHandle cublasLtDestroy = h("cublasLtDestroy", JAVA_LONG);
    private static final MethodHandle cublasLtGetVersion =
            Native.downcall(LIB, "cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle cublasLtGetStatusName = Native.downcallOrNull(LIB, "cublasLtGetStatusName",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle cublasLtGetStatusString = Native.downcallOrNull(LIB, "cublasLtGetStatusString",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle cublasLtMatmulDescCreate =
            h("cublasLtMatmulDescCreate", ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle cublasLtMatmulDescDestroy = h("cublasLtMatmulDescDestroy", JAVA_LONG);
    private static final MethodHandle cublasLtMatmulDescSetAttribute =
            h("cublasLtMatmulDescSetAttribute", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle cublasLtMatrixLayoutCreate =
            h("cublasLtMatrixLayoutCreate", ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cublasLtMatrixLayoutDestroy = h("cublasLtMatrixLayoutDestroy", JAVA_LONG);
    private static final MethodHandle cublasLtMatrixLayoutSetAttribute =
            h("cublasLtMatrixLayoutSetAttribute", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle cublasLtMatmulPreferenceCreate = h("cublasLtMatmulPreferenceCreate", ADDRESS);
    private static final MethodHandle cublasLtMatmulPreferenceDestroy = h("cublasLtMatmulPreferenceDestroy", JAVA_LONG);
    private static final MethodHandle cublasLtMatmulPreferenceSetAttribute =
            h("cublasLtMatmulPreferenceSetAttribute", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle cublasLtMatmulAlgoGetHeuristic = h("cublasLtMatmulAlgoGetHeuristic",
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle cublasLtMatmul = h("cublasLtMatmul", JAVA_LONG, JAVA_LONG, ADDRESS,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
            ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG);

    /** Everything that selects descriptors and algorithm. Alignments are of the pointers and batch strides. */
    private record Key(GemmPlan plan, CudaDataType abType, CudaDataType cType, ComputeType compute,
                       int alignFirst, int alignSecond, int alignOut, int epilogue, int alignBias) {}

    /** Descriptors and the chosen algorithm for one Key; lives as long as this handle. */
    private record Prepared(long desc, long layoutFirst, long layoutSecond, long layoutOut, MemorySegment algo,
                            long workspaceSize) {}

    private final CudaDevice device;
    private final long handle;
    private final Arena arena = Arena.ofShared();
    private final Map<Key, Prepared> plans = new ConcurrentHashMap<>();
    private final Map<Long, DeviceBuffer> workspaces = new ConcurrentHashMap<>();
    private boolean closed;
    private static final java.util.concurrent.atomic.LongAdder CALLS = new java.util.concurrent.atomic.LongAdder();

    /** cublasLtMatmul calls since start, over all devices (for counting products per training step). */
    public static long calls() { return CALLS.sum(); }

    CublasLt(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cublasLtCreate", (int) cublasLtCreate.invokeExact(p));
            this.handle = p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** cuBLASLt's version number, e.g. 130001 for 13.0.1 (major * 10000 + minor * 100 + patch). */
    public static long version() {
        try { return (long) cublasLtGetVersion.invokeExact(); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static String versionString() {
        long v = version();
        return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
    }

    /** Distinct problems planned so far (each ran the heuristic once). */
    public int cachedPlans() { return plans.size(); }

    static void check(String function, int status) {
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(function, status, statusName(status), statusString(status));
        }
    }

    static String statusName(int status) {
        try {
            if (cublasLtGetStatusName != null) return Native.cString((MemorySegment) cublasLtGetStatusName.invokeExact(status));
        } catch (Throwable ignored) {
            // fall through
        }
        return "cublasStatus_t " + status;
    }

    static String statusString(int status) {
        try {
            if (cublasLtGetStatusString != null) return Native.cString((MemorySegment) cublasLtGetStatusString.invokeExact(status));
        } catch (Throwable ignored) {
            // fall through
        }
        return "cuBLAS error";
    }

    /** Same input and output type. */
    public void matmul(CudaStream stream, boolean transA, boolean transB, int m, int n, int k,
                       double alpha, long a, long lda, long strideA, long b, long ldb, long strideB,
                       double beta, long c, long ldc, long strideC, int batch, CudaDataType dtype,
                       ComputeType computeType) {
        matmul(stream, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch,
                dtype, dtype, computeType);
    }

    /**
     * Row-major, strided-batched: for each {@code i < batch},
     * {@code C_i[m,n] = alpha * op(A_i)[m,k] @ op(B_i)[k,n] + beta * C_i}, where {@code X_i} starts {@code i * strideX}
     * elements after {@code x}, {@code op(A) = A^T} when {@code transA} (A then stored k x m), and lda/ldb/ldc are
     * row pitches in elements. A and B are {@code abType}, C is {@code cType} and is overwritten in place (with
     * {@code beta = 0} its old contents are ignored). Asynchronous on {@code stream}; capturable into a graph once the
     * problem has been planned (the first call runs the heuristic and allocates the stream's workspace).
     */
    public void matmul(CudaStream stream, boolean transA, boolean transB, int m, int n, int k,
                       double alpha, long a, long lda, long strideA, long b, long ldb, long strideB,
                       double beta, long c, long ldc, long strideC, int batch,
                       CudaDataType abType, CudaDataType cType, ComputeType computeType) {
        matmul(stream, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch,
                abType, cType, computeType, EPILOGUE_DEFAULT, 0);
    }

    /**
     * As above with an epilogue: {@link #EPILOGUE_BIAS} adds {@code bias[j]} to every row of the row-major C
     * (a vector of n, C's columns: a Linear layer's bias), {@link #EPILOGUE_BGRADB} writes into {@code bias} the sums over
     * k of op(A) (a vector of m: with A = g^T, the bias gradient of a Linear layer next to its weight gradient),
     * {@link #EPILOGUE_RELU_BIAS} / {@link #EPILOGUE_RELU} max(0, .) of the result with / without the bias. Throws
     * {@link CudaException} when cuBLASLt has no algorithm for the epilogue (callers fall back to separate kernels).
     */
    public void matmul(CudaStream stream, boolean transA, boolean transB, int m, int n, int k,
                       double alpha, long a, long lda, long strideA, long b, long ldb, long strideB,
                       double beta, long c, long ldc, long strideC, int batch,
                       CudaDataType abType, CudaDataType cType, ComputeType computeType, int epilogue, long bias) {
        if (stream.device() != device) {
            throw new IllegalArgumentException("matmul on " + device + " given a stream of " + stream.device());
        }
        GemmPlan plan = GemmPlan.rowMajor(transA, transB, m, n, k, lda, strideA, ldb, strideB, ldc, strideC, batch);
        Key key = new Key(plan, abType, cType, computeType,
                alignment(b, strideB, abType, batch), alignment(a, strideA, abType, batch),
                alignment(c, strideC, cType, batch), epilogue, takesBias(epilogue) ? alignment(bias, 0, cType, 1) : 0);
        device.makeCurrent();
        Prepared p = plans.get(key);
        if (p == null) p = plans.computeIfAbsent(key, this::prepare);
        DeviceBuffer ws = p.workspaceSize() == 0 ? null : workspace(stream);
        CALLS.increment();
        try {
            MemorySegment scratch = Scratch.get();
            if (takesBias(epilogue)) {
                MemorySegment ptr = scratch.asSlice(16, 8);
                ptr.set(JAVA_LONG, 0, bias);
                check("cublasLtMatmulDescSetAttribute(BIAS_POINTER)", (int) cublasLtMatmulDescSetAttribute.invokeExact(
                        p.desc(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, ptr, 8L));
            }
            MemorySegment alphaSeg = scalar(scratch.asSlice(0, 8), computeType, alpha);
            MemorySegment betaSeg = scalar(scratch.asSlice(8, 8), computeType, beta);
            int rc = (int) cublasLtMatmul.invokeExact(handle, p.desc(), alphaSeg,
                    b, p.layoutFirst(), a, p.layoutSecond(), betaSeg, c, p.layoutOut(), c, p.layoutOut(),
                    p.algo(), ws == null ? 0L : ws.pointer(), p.workspaceSize(), stream.handle());
            if (rc != CUBLAS_STATUS_SUCCESS) {
                throw new CudaException("cublasLtMatmul", rc, "cublasLtMatmul failed for " + describe(key) + ": "
                        + statusName(rc) + " (" + rc + "): " + statusString(rc));
            }
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Whether the epilogue reads or writes the bias pointer. */
    private static boolean takesBias(int epilogue) {
        return epilogue == EPILOGUE_BIAS || epilogue == EPILOGUE_BGRADB || epilogue == EPILOGUE_RELU_BIAS;
    }

    /** Writes alpha or beta in the scale type into an 8-byte slot. */
    private static MemorySegment scalar(MemorySegment slot, ComputeType compute, double v) {
        if (compute.scaleType() == CudaDataType.F64) slot.set(JAVA_DOUBLE, 0, v);
        else slot.set(JAVA_FLOAT, 0, (float) v);
        return slot;
    }

    /** The largest power of two (at most 256) dividing the pointer and, for batches, the batch stride in bytes. */
    static int alignment(long pointer, long strideElements, CudaDataType type, int batch) {
        long bits = pointer | 256;
        if (batch > 1) bits |= strideElements * type.byteSize();
        return (int) Long.lowestOneBit(bits);
    }

    private DeviceBuffer workspace(CudaStream stream) {
        return workspaces.computeIfAbsent(stream.handle(), s -> device.allocate(WORKSPACE_BYTES, stream));
    }

    private Prepared prepare(Key key) {
        GemmPlan plan = key.plan();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check("cublasLtMatmulDescCreate", (int) cublasLtMatmulDescCreate.invokeExact(out,
                    key.compute().code(), key.compute().scaleType().code()));
            long desc = out.get(JAVA_LONG, 0);
            setDesc(a, desc, CUBLASLT_MATMUL_DESC_TRANSA, plan.transFirst() ? CUBLAS_OP_T : CUBLAS_OP_N);
            setDesc(a, desc, CUBLASLT_MATMUL_DESC_TRANSB, plan.transSecond() ? CUBLAS_OP_T : CUBLAS_OP_N);
            if (key.epilogue() != EPILOGUE_DEFAULT) setDesc(a, desc, CUBLASLT_MATMUL_DESC_EPILOGUE, key.epilogue());
            if (takesBias(key.epilogue())) {
                // the heuristic reads the pointer's alignment only: a stand-in with the bias's alignment
                MemorySegment ptr = a.allocateFrom(JAVA_LONG, key.alignBias());
                check("cublasLtMatmulDescSetAttribute(BIAS_POINTER)", (int) cublasLtMatmulDescSetAttribute.invokeExact(
                        desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, ptr, 8L));
            }
            long lFirst = layout(a, key.abType(), plan.first(), plan.batch());
            long lSecond = layout(a, key.abType(), plan.second(), plan.batch());
            long lOut = layout(a, key.cType(), plan.out(), plan.batch());

            check("cublasLtMatmulPreferenceCreate", (int) cublasLtMatmulPreferenceCreate.invokeExact(out));
            long pref = out.get(JAVA_LONG, 0);
            try {
                setPref(a, pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, a.allocateFrom(JAVA_LONG, WORKSPACE_BYTES));
                setPref(a, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, a.allocateFrom(JAVA_INT, key.alignFirst()));
                setPref(a, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, a.allocateFrom(JAVA_INT, key.alignSecond()));
                setPref(a, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, a.allocateFrom(JAVA_INT, key.alignOut()));
                setPref(a, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, a.allocateFrom(JAVA_INT, key.alignOut()));
                MemorySegment result = a.allocate(HEURISTIC_RESULT_BYTES, 8);
                MemorySegment count = a.allocate(JAVA_INT);
                int rc = (int) cublasLtMatmulAlgoGetHeuristic.invokeExact(handle, desc, lFirst, lSecond, lOut, lOut,
                        pref, 1, result, count);
                if (rc != CUBLAS_STATUS_SUCCESS || count.get(JAVA_INT, 0) == 0) {
                    throw new CudaException("cublasLtMatmulAlgoGetHeuristic", rc, "cublasLtMatmulAlgoGetHeuristic "
                            + "found no algorithm for " + describe(key) + ": " + statusName(rc) + " (" + rc + ")");
                }
                check("cublasLtMatmulAlgoGetHeuristic(result)", result.get(JAVA_INT, 72));
                MemorySegment algo = arena.allocate(ALGO_BYTES, 8);
                algo.copyFrom(result.asSlice(0, ALGO_BYTES));
                return new Prepared(desc, lFirst, lSecond, lOut, algo, result.get(JAVA_LONG, 64));
            } finally {
                int ignored = (int) cublasLtMatmulPreferenceDestroy.invokeExact(pref);
            }
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    private long layout(Arena a, CudaDataType type, GemmPlan.Layout l, int batch) throws Throwable {
        MemorySegment out = a.allocate(JAVA_LONG);
        check("cublasLtMatrixLayoutCreate", (int) cublasLtMatrixLayoutCreate.invokeExact(out, type.code(),
                l.rows(), l.cols(), l.ld()));
        long layout = out.get(JAVA_LONG, 0);
        if (batch > 1) {
            check("cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)", (int) cublasLtMatrixLayoutSetAttribute.invokeExact(
                    layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, a.allocateFrom(JAVA_INT, batch), 4L));
            check("cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)",
                    (int) cublasLtMatrixLayoutSetAttribute.invokeExact(layout,
                            CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, a.allocateFrom(JAVA_LONG, l.batchStride()), 8L));
        }
        return layout;
    }

    private static void setDesc(Arena a, long desc, int attribute, int value) throws Throwable {
        check("cublasLtMatmulDescSetAttribute", (int) cublasLtMatmulDescSetAttribute.invokeExact(desc, attribute,
                a.allocateFrom(JAVA_INT, value), 4L));
    }

    private static void setPref(Arena a, long pref, int attribute, MemorySegment value) throws Throwable {
        check("cublasLtMatmulPreferenceSetAttribute", (int) cublasLtMatmulPreferenceSetAttribute.invokeExact(pref,
                attribute, value, value.byteSize()));
    }

    private static String describe(Key key) {
        GemmPlan p = key.plan();
        return "row-major [" + p.n() + ", " + p.k() + "]" + (p.transSecond() ? "^T" : "") + " @ [" + p.k() + ", "
                + p.m() + "]" + (p.transFirst() ? "^T" : "") + " x" + p.batch() + " " + key.abType() + "->"
                + key.cType() + " compute " + key.compute() + " (alignments " + key.alignSecond() + "/"
                + key.alignFirst() + "/" + key.alignOut() + ")" + (key.epilogue() == EPILOGUE_DEFAULT ? "" : " epilogue " + key.epilogue());
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        try {
            for (Prepared p : plans.values()) {
                int r1 = (int) cublasLtMatrixLayoutDestroy.invokeExact(p.layoutFirst());
                int r2 = (int) cublasLtMatrixLayoutDestroy.invokeExact(p.layoutSecond());
                int r3 = (int) cublasLtMatrixLayoutDestroy.invokeExact(p.layoutOut());
                int r4 = (int) cublasLtMatmulDescDestroy.invokeExact(p.desc());
            }
            plans.clear();
            workspaces.values().forEach(DeviceBuffer::close);
            workspaces.clear();
            check("cublasLtDestroy", (int) cublasLtDestroy.invokeExact(handle));
        } catch (Throwable t) { throw Native.rethrow(t); } finally {
            arena.close();
        }
    }
}
