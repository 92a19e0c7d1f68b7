package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.Capture;
import io.github.transformers4j.tensor.FusedOp;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.ReduceOp;
import io.github.transformers4j.tensor.Storage;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CUDA backend of one GPU: every {@link Backend} op as NVRTC-compiled kernels ({@code kernels/*.cu}, one file per
 * family, forward and backward together) or cuBLASLt products, queued on the device's default stream. Semantics are
 * the CPU backend's ({@code tensor.cpu}); sums accumulate in double, products run in pure fp32 unless TF32 is allowed
 * ({@code -Dt4j.cuda.tf32=true}, env {@code T4J_CUDA_TF32=true} or {@link #allowTf32(boolean)}).
 *
 * <p>Work is asynchronous: only {@link #copyToHost} and {@link #synchronize} wait ({@link #copyFromHost} stages the
 * bytes in pinned memory and returns). A bad index found by a kernel is raised as an {@link IndexOutOfBoundsException}
 * at the next of those (as CUDA reports device-side
 * errors late). index_add and scatter_add use float atomics (last-bit differences between runs).
 */
public final class CudaBackend implements Backend {
    static final int BLOCK = 256;
    /** Elements per thread per round of the unrolled elementwise kernels (UNROLL in common.cuh). */
    static final int UNROLL = 8;
    /** Host staging for heap arrays (Tensor.of, toFloatArray): pinned, reused, transfers split into chunks. */
    static final long STAGING_BYTES = 16L << 20;

    private final CudaDevice gpu;
    private final Device device;
    private final CudaStream stream;
    private final int maxGrid;
    /** Device-side error record {code, value, bound, op} (index.cu) and its pinned host mirror. */
    private final DeviceBuffer errors;
    private final PinnedBuffer errorsHost;
    private final Object hostLock = new Object();
    private PinnedBuffer staging;
    private final UploadRing uploads;
    private volatile boolean tf32 = Boolean.getBoolean("t4j.cuda.tf32") || "true".equalsIgnoreCase(System.getenv("T4J_CUDA_TF32"));
    private final Map<String, CudaFunction> functions = new ConcurrentHashMap<>();
    /** Set once cuBLASLt refused a dtype: later products of it take the plain kernel. */
    private final Map<DType, Boolean> blasRefused = new ConcurrentHashMap<>();

    public CudaBackend(CudaDevice gpu) {
        this.gpu = gpu;
        this.device = Device.cuda(gpu.index());
        this.stream = gpu.defaultStream();
        this.maxGrid = 8 * gpu.multiprocessors(); // 8 blocks of 256 = 2048 threads, a full SM
        this.errors = gpu.allocate(32);
        stream.memsetD8Async(errors.pointer(), (byte) 0, 32);
        this.errorsHost = new PinnedBuffer(gpu, 32);
        this.uploads = new UploadRing(gpu, stream);
    }

    @Override
    public Device device() { return device; }

    /** The GPU this backend runs on (allocator statistics, streams, events). */
    public CudaDevice gpu() { return gpu; }

    public CudaStream stream() { return stream; }

    /** Lets float32 products use TF32 tensor cores (about 1e-3 relative error instead of 1e-7). */
    public void allowTf32(boolean allow) { tf32 = allow; }

    public boolean tf32() { return tf32; }

    // ------------------------------------------------------------ helpers

    private static CudaStorage storage(Tensor t) {
        Storage s = t.storage();
        if (s instanceof CudaStorage c) return c;
        throw new IllegalArgumentException("CUDA backend given a tensor on " + s.device() + " " + java.util.Arrays.toString(t.shape()));
    }

    /** Device address of t's element [0, ..., 0]; 0 for null. */
    static long ptr(Tensor t) {
        if (t == null) return 0;
        return storage(t).pointer() + t.storageOffset() * t.dtype().byteSize();
    }

    private static int code(DType t) { return t.ordinal(); }

    private static int code(Tensor t) { return t == null ? 0 : t.dtype().ordinal(); }

    /** Kernel-name suffix of a floating-point dtype. */
    private static String suffix(String op, DType t) {
        return switch (t) {
            case F32 -> "f32";
            case F64 -> "f64";
            case BF16 -> "bf16";
            case F16 -> "f16";
            default -> throw new IllegalArgumentException(op + " on CUDA needs a floating-point tensor, got " + t);
        };
    }

    private CudaFunction fn(String file, String kernel) {
        CudaFunction f = functions.get(kernel);
        if (f == null) f = functions.computeIfAbsent(kernel, k -> gpu.function(file, k)); // kernel names are unique
        return f;
    }

    private int grid(long threads) {
        return (int) Math.max(1, Math.min(Math.ceilDiv(threads, BLOCK), maxGrid));
    }

    /** A grid-stride kernel over n items. */
    private void launch(String file, String kernel, long n, KernelArgs args) {
        if (n <= 0) return;
        fn(file, kernel).launch(stream, grid(n), BLOCK, 0, args);
    }

    /** As {@link #launch} for kernels that take UNROLL elements per thread per round (common.cuh's for_each_unrolled). */
    private void launchUnrolled(String file, String kernel, long n, KernelArgs args) {
        if (n <= 0) return;
        fn(file, kernel).launch(stream, grid(Math.ceilDiv(n, UNROLL)), BLOCK, 0, args);
    }

    /** One block per row (grid-stride over rows); block size from the row length. */
    private void launchRows(String file, String kernel, long rows, long rowLength, KernelArgs args) {
        if (rows <= 0) return;
        int block = rowLength <= 128 ? 32 : rowLength <= 1024 ? 128 : rowLength <= 8192 ? 256 : 512;
        fn(file, kernel).launch(stream, (int) Math.min(rows, 1 << 20), block, 0, args);
    }

    private DeviceBuffer temp(long bytes) {
        return gpu.allocate(Math.max(bytes, 1), stream);
    }

    // ------------------------------------------------------------ memory and transfers

    @Override
    public Storage allocate(DType dtype, long numel) {
        return new CudaStorage(device, dtype, numel, gpu.allocate(Math.max(1, numel * dtype.byteSize()), stream));
    }

    /**
     * Queues the upload and returns without waiting for the GPU: the bytes go through a pinned staging ring
     * ({@link UploadRing}), so the caller may free or reuse {@code src} at once. Device-side index errors are raised at
     * the next copy to the host or {@link #synchronize()}, not here.
     */
    @Override
    public void copyFromHost(MemorySegment src, Tensor dst) {
        Capture.checkHost("a host-to-device copy");
        long bytes = dst.numel() * dst.dtype().byteSize();
        if (bytes == 0) return;
        synchronized (hostLock) {
            uploads.upload(src, ptr(dst), bytes);
        }
    }

    /** Times an upload waited for the GPU to free a staging segment (diagnostics). */
    public long uploadWaits() {
        synchronized (hostLock) {
            return uploads.waits();
        }
    }

    @Override
    public void copyToHost(Tensor src, MemorySegment dst) {
        Capture.checkHost("a device-to-host copy");
        long bytes = src.numel() * src.dtype().byteSize();
        long from = ptr(src);
        synchronized (hostLock) {
            if (bytes > 0 && dst.isNative()) {
                stream.copyToHostAsync(from, dst, bytes);
            } else if (bytes > 0) {
                MemorySegment stage = staging(bytes);
                for (long done = 0; done < bytes; done += stage.byteSize()) {
                    long n = Math.min(stage.byteSize(), bytes - done);
                    stream.copyToHostAsync(from + done, stage, n);
                    stream.synchronize();
                    MemorySegment.copy(stage, 0, dst, done, n);
                }
            }
        }
        checkErrors();
    }

    private MemorySegment staging(long bytes) {
        long want = Math.min(Math.max(bytes, 1 << 16), STAGING_BYTES);
        if (staging == null || staging.bytes() < want) {
            if (staging != null) staging.close();
            staging = new PinnedBuffer(gpu, Math.max(want, staging == null ? 0 : Math.min(2 * staging.bytes(), STAGING_BYTES)));
        }
        return staging.segment();
    }

    /** Waits for the stream and raises the first bad index a kernel found since the last check. */
    @Override
    public void synchronize() {
        Capture.checkHost("a synchronisation");
        checkErrors();
    }

    private void checkErrors() {
        synchronized (hostLock) {
            raiseDeviceError();
        }
    }

    private void raiseDeviceError() {
        MemorySegment host = errorsHost.segment();
        stream.copyToHostAsync(errors.pointer(), host, 32);
        stream.synchronize();
        long code = host.get(JAVA_LONG, 0);
        if (code == 0) return;
        long value = host.get(JAVA_LONG, 8), bound = host.get(JAVA_LONG, 16), op = host.get(JAVA_LONG, 24);
        stream.memsetD8Async(errors.pointer(), (byte) 0, 32);
        String name = switch ((int) op) {
            case 1 -> "indexSelect";
            case 2 -> "indexAdd";
            case 3 -> "gather";
            case 4 -> "scatterAdd";
            case 5 -> "crossEntropy (target class)";
            default -> "indexing op " + op;
        };
        throw new IndexOutOfBoundsException(name + ": index " + value + " out of range for dimension of size " + bound
                + " (expected 0 <= index < " + bound + "; found on " + device
                + " by a kernel queued earlier, reported at this synchronization)");
    }

    // ------------------------------------------------------------ copy and fill (copy.cu)

    @Override
    public void copy(Tensor src, Tensor dst) {
        long n = dst.numel();
        if (n == 0) return;
        DType st = src.dtype(), dt = dst.dtype();
        if (src.isContiguous() && dst.isContiguous()) {
            if (st == dt) {
                stream.copyAsync(ptr(src), ptr(dst), n * dt.byteSize());
            } else {
                launchUnrolled("copy.cu", "copy_contiguous", n, KernelArgs.of().ptr(ptr(src)).i32(code(st)).ptr(ptr(dst))
                        .i32(code(dt)).i32(dt.byteSize()).i64(n));
            }
            return;
        }
        StridedLayout layout = StridedLayout.of(dst.shape(), src.stride(), dst.stride());
        long ps = ptr(src), pd = ptr(dst);
        if (st == dt) {
            StridedLayout wide = layout.widened(dt.byteSize(), 16, ps, pd);
            if (wide != null && wide.ndim() <= StridedLayout.MAX_DIMS) {
                launch("copy.cu", "copy_strided_v16", wide.numel(), KernelArgs.of().struct(wide.words()).ptr(ps).ptr(pd)
                        .i64(wide.numel()));
                return;
            }
        }
        for (StridedLayout.Chunk c : layout.chunks()) {
            long cn = c.inner().numel();
            launch("copy.cu", "copy_strided", cn, KernelArgs.of().struct(c.inner().words())
                    .ptr(ps + c.offsets()[0] * st.byteSize()).i32(code(st))
                    .ptr(pd + c.offsets()[1] * dt.byteSize()).i32(code(dt)).i32(dt.byteSize()).i64(cn));
        }
    }

    @Override
    public void fill(Tensor dst, double value) {
        long n = dst.numel();
        if (n == 0) return;
        DType t = dst.dtype();
        long p = ptr(dst);
        if (value == 0) {
            stream.memsetD8Async(p, (byte) 0, n * t.byteSize());
        } else if (t == DType.F32) {
            stream.memsetD32Async(p, Float.floatToRawIntBits((float) value), n);
        } else if (t == DType.I32) {
            stream.memsetD32Async(p, (int) (long) value, n);
        } else {
            launch("copy.cu", "fill", n, KernelArgs.of().ptr(p).i32(code(t)).f64(value).i64(n));
        }
    }

    // ------------------------------------------------------------ elementwise (unary.cu, binary.cu)

    @Override
    public void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out) {
        long n = x.numel();
        if (n == 0) return;
        DType xt = x.dtype();
        if (xt == out.dtype() && xt.isFloatingPoint()) {
            launchUnrolled("unary.cu", "unary_" + suffix("unary", xt), n, KernelArgs.of().i32(op.ordinal()).f64(p0).f64(p1)
                    .ptr(ptr(x)).ptr(ptr(out)).i64(n));
        } else {
            launch("unary.cu", "unary_generic", n, KernelArgs.of().i32(op.ordinal()).f64(p0).f64(p1)
                    .ptr(ptr(x)).i32(code(xt)).ptr(ptr(out)).i32(code(out)).i64(n));
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (out.numel() == 0) return;
        boolean mixed = a.dtype() != b.dtype();
        if (mixed && (out.dtype() != DType.F32 || op.isComparison() || !narrowOrF32(a.dtype()) || !narrowOrF32(b.dtype()))) {
            throw new IllegalArgumentException("binary " + op + " on CUDA: operand dtypes differ: " + a.dtype() + " and " + b.dtype()
                    + " (mixed operands: F32 with BF16 or F16, F32 result)");
        }
        DType t = a.dtype(), ot = out.dtype();
        StridedLayout layout = StridedLayout.of(out.shape(), a.stride(), b.stride(), out.stride());
        long pa = ptr(a), pb = ptr(b), po = ptr(out);
        int es = t.byteSize(), esb = b.dtype().byteSize(), os = ot.byteSize();
        for (StridedLayout.Chunk c : layout.chunks()) {
            long n = c.inner().numel();
            long ca = pa + c.offsets()[0] * es, cb = pb + c.offsets()[1] * esb, co = po + c.offsets()[2] * os;
            if (mixed) {
                launchUnrolled("binary.cu", "binary_f32_mixed", n, KernelArgs.of().i32(op.ordinal()).struct(c.inner().words())
                        .ptr(ca).i32(code(a)).ptr(cb).i32(code(b)).ptr(co).i64(n));
            } else if (t.isFloatingPoint()) {
                launchUnrolled("binary.cu", "binary_" + suffix("binary", t), n, KernelArgs.of().i32(op.ordinal())
                        .struct(c.inner().words()).ptr(ca).ptr(cb).ptr(co).i64(n));
            } else {
                launch("binary.cu", "binary_generic", n, KernelArgs.of().i32(op.ordinal()).struct(c.inner().words())
                        .ptr(ca).ptr(cb).i32(code(t)).ptr(co).i32(code(ot)).i64(n));
            }
        }
    }

    private static boolean narrowOrF32(DType t) {
        return t == DType.F32 || t == DType.BF16 || t == DType.F16;
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        if (out.numel() == 0) return;
        StridedLayout layout = StridedLayout.of(out.shape(), cond.stride(), a.stride(), b.stride(), out.stride());
        long pc = ptr(cond), pa = ptr(a), pb = ptr(b), po = ptr(out);
        int es = out.dtype().byteSize();
        for (StridedLayout.Chunk c : layout.chunks()) {
            long n = c.inner().numel();
            launch("binary.cu", "where_strided", n, KernelArgs.of().struct(c.inner().words())
                    .ptr(pc + c.offsets()[0]).ptr(pa + c.offsets()[1] * es).ptr(pb + c.offsets()[2] * es)
                    .ptr(po + c.offsets()[3] * es).i32(es).i64(n));
        }
    }

    // ------------------------------------------------------------ reductions (reduce.cu)

    @Override
    public void reduce(ReduceOp op, Tensor x, long outer, long n, long inner, Tensor values, Tensor indices) {
        long columns = outer * inner;
        if (columns == 0) return;
        if (n == 0) { // only SUM gets here (the op layer rejects empty max/min)
            if (values != null) fill(values, 0);
            return;
        }
        long px = ptr(x), pv = ptr(values), pi = ptr(indices);
        int xdt = code(x), vdt = code(values);
        if (inner == 1) {
            launchRows("reduce.cu", "reduce_rows", outer, n, KernelArgs.of().i32(op.ordinal()).ptr(px).i32(xdt)
                    .i64(outer).i64(n).ptr(pv).i32(vdt).ptr(pi));
            return;
        }
        // enough threads to fill the GPU: split n into chunks of at least 64 when there are few columns
        long target = 4L * maxGrid * BLOCK;
        long chunks = Math.clamp(Math.ceilDiv(target, columns), 1, Math.max(1, n / 64));
        long chunk = Math.ceilDiv(n, chunks);
        chunks = Math.ceilDiv(n, chunk);
        if (chunks == 1) {
            launch("reduce.cu", "reduce_cols", columns, KernelArgs.of().i32(op.ordinal()).ptr(px).i32(xdt).i64(outer)
                    .i64(n).i64(inner).i64(chunk).i64(1).ptr(pv).i32(vdt).ptr(pi).ptr(0).ptr(0));
            return;
        }
        try (DeviceBuffer partV = temp(8 * chunks * columns); DeviceBuffer partK = temp(8 * chunks * columns)) {
            launch("reduce.cu", "reduce_cols", columns * chunks, KernelArgs.of().i32(op.ordinal()).ptr(px).i32(xdt)
                    .i64(outer).i64(n).i64(inner).i64(chunk).i64(chunks).ptr(pv).i32(vdt).ptr(pi)
                    .ptr(partV).ptr(partK));
            launch("reduce.cu", "reduce_cols_finish", columns, KernelArgs.of().i32(op.ordinal()).i64(columns)
                    .i64(chunks).ptr(partV).ptr(partK).ptr(pv).i32(vdt).ptr(pi));
        }
    }

    // ------------------------------------------------------------ matmul (cuBLASLt; matmul.cu as the fallback)

    /** A [batch, rows, cols] operand as cuBLASLt takes it: row-major with pitch ld, or transposed storage. */
    private record Operand(long pointer, boolean trans, long ld, long batchStride) {}

    /** null when the strides fit neither layout (the caller copies the operand). */
    private static Operand operand(Tensor t, long rows, long cols) {
        long bs = t.stride(0), rs = t.stride(1), cs = t.stride(2);
        if ((cols == 1 || cs == 1) && (rows == 1 || rs >= cols)) {
            return new Operand(ptr(t), false, rows == 1 ? Math.max(cols, 1) : rs, bs);
        }
        if ((rows == 1 || rs == 1) && (cols == 1 || cs >= rows)) {
            return new Operand(ptr(t), true, cols == 1 ? Math.max(rows, 1) : cs, bs);
        }
        return null;
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        matmul(a, b, out, 1.0, accumulate);
    }

    /** out = alpha * a @ b in one product (cuBLASLt's alpha): attention folds its scale in here. */
    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, double alpha) {
        matmul(a, b, out, alpha, false);
    }

    private void matmul(Tensor a, Tensor b, Tensor out, double alpha, boolean accumulate) {
        int[] sa = a.shape(), sb = b.shape();
        int batch = sa[0], m = sa[1], k = sa[2], n = sb[2];
        if ((long) batch * m * n == 0) return;
        DType t = a.dtype();
        if (k == 0) {
            if (!accumulate) fill(out, 0);
            return;
        }
        Operand oa = operand(a, m, k), ob = operand(b, k, n);
        Tensor ca = null, cb = null;
        try {
            if (oa == null) oa = operand(ca = contiguousCopy(a), m, k);
            if (ob == null) ob = operand(cb = contiguousCopy(b), k, n);
            if (!blasRefused.containsKey(t)) {
                try {
                    blasMatmul(t, oa, ob, batch, m, n, k, ptr(out), alpha, accumulate);
                    return;
                } catch (CudaException first) {
                    try { // once more with both operands materialized (batch stride 0, unusual pitches)
                        if (ca == null) oa = operand(ca = contiguousCopy(a), m, k);
                        if (cb == null) ob = operand(cb = contiguousCopy(b), k, n);
                        blasMatmul(t, oa, ob, batch, m, n, k, ptr(out), alpha, accumulate);
                        return;
                    } catch (CudaException again) {
                        blasRefused.put(t, true);
                        System.err.println("transformers4j: cuBLASLt refused a " + t + " product (" + again.getMessage()
                                + "); " + t + " products take the plain CUDA kernel from now on");
                    }
                }
            }
            Tensor a2 = ca != null ? ca : a, b2 = cb != null ? cb : b;
            fn("matmul.cu", "matmul_" + suffix("matmul", t)).launch(stream, Math.ceilDiv(n, 16), Math.ceilDiv(m, 16), batch,
                    16, 16, 1, 0, KernelArgs.of().ptr(ptr(a2)).ptr(ptr(b2)).ptr(ptr(out)).i32(m).i32(n).i32(k)
                            .i64(a2.stride(0)).i64(a2.stride(1)).i64(a2.stride(2))
                            .i64(b2.stride(0)).i64(b2.stride(1)).i64(b2.stride(2)).i32(accumulate ? 1 : 0));
            if (alpha != 1) unary(UnaryOp.AFFINE, alpha, 0, out, out); // (only reached without accumulate)
        } finally {
            if (ca != null) ca.release();
            if (cb != null) cb.release();
        }
    }

    private Tensor contiguousCopy(Tensor x) {
        Tensor c = Tensor.full(0, x.dtype(), device, x.shape());
        copy(x, c);
        return c;
    }

    private static CudaDataType dataType(DType t) {
        return switch (t) {
            case F32 -> CudaDataType.F32;
            case F64 -> CudaDataType.F64;
            case BF16 -> CudaDataType.BF16;
            case F16 -> CudaDataType.F16;
            default -> throw new IllegalArgumentException("matmul on CUDA needs a floating-point dtype, got " + t);
        };
    }

    private void blasMatmul(DType t, Operand a, Operand b, int batch, int m, int n, int k, long out, double alpha,
                            boolean accumulate) {
        // a batch of row-major, untransposed A over contiguous batches with a shared B is one tall product
        if (batch > 1 && b.batchStride() == 0 && !a.trans() && a.batchStride() == (long) m * a.ld()) {
            m *= batch;
            batch = 1;
        }
        CudaDataType ct = dataType(t);
        gpu.blas().matmul(stream, a.trans(), b.trans(), m, n, k, alpha, a.pointer(), a.ld(), a.batchStride(),
                b.pointer(), b.ld(), b.batchStride(), accumulate ? 1.0 : 0.0, out, n, (long) m * n, batch, ct, compute(t));
    }

    private ComputeType compute(DType t) {
        return t == DType.F64 ? ComputeType.F64 : t == DType.F32 && tf32 ? ComputeType.TF32 : ComputeType.F32;
    }

    // ------------------------------------------------------------ fused linear (cuBLASLt epilogues)


    @Override
    public boolean hasFusedLinear(DType dtype) {
        return dtype == DType.F32 && !Boolean.getBoolean("t4j.cuda.noFusedLinear");
    }

    /** out [M, N] = x [M, K] @ w [N, K]^T + bias: one cuBLASLt call with the bias epilogue. */
    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        linearProduct(x, w, bias, false, out, CudaDataType.F32, compute(DType.F32), f32Epilogues);
    }

    /** gw [N, K] = g^T @ x, with gb [N] (g's column sums) from the same product's BGRADB epilogue. */
    @Override
    public void linearWeightGrad(Tensor g, Tensor x, Tensor gw, Tensor gb) {
        weightGradProduct(g, x, g, gw, gb, CudaDataType.F32, compute(DType.F32), f32Epilogues);
    }

    /** Epilogues cuBLASLt refused once for one operand type (no algorithm): later calls take the separate kernels. */
    private static final class Epilogues {
        final String what;
        volatile boolean biasRefused, bgradRefused, reluRefused;

        Epilogues(String what) {
            this.what = what;
        }
    }

    private final Epilogues f32Epilogues = new Epilogues("fp32"), bf16Epilogues = new Epilogues("bf16");

    /**
     * out [M, N] = x [M, K] @ w [N, K]^T (operands of type ab) + bias [N] (out's type, may be null), then max(0, .)
     * when relu: bias and ReLU in the epilogue. out is fp32, or bf16 under autocast.
     */
    private void linearProduct(Tensor x, Tensor w, Tensor bias, boolean relu, Tensor out, CudaDataType ab, ComputeType ct,
                               Epilogues ep) {
        int m = x.size(0), k = x.size(1), n = w.size(0);
        CudaDataType cType = dataType(out.dtype());
        if ((long) m * n == 0) return;
        if (relu && k > 0 && !ep.reluRefused) {
            try {
                gpu.blas().matmul(stream, false, true, m, n, k, 1.0, ptr(x), k, 0, ptr(w), k, 0, 0.0, ptr(out), n, 0, 1,
                        ab, cType, ct, bias == null ? CublasLt.EPILOGUE_RELU : CublasLt.EPILOGUE_RELU_BIAS, bias == null ? 0 : ptr(bias));
                return;
            } catch (CudaException e) {
                ep.reluRefused = true;
                System.err.println("transformers4j: cuBLASLt refused the ReLU epilogue for " + ep.what + " products ("
                        + e.getMessage() + "); linear + ReLU runs a separate ReLU kernel");
            }
        }
        if (relu) {
            linearProduct(x, w, bias, false, out, ab, ct, ep);
            unary(UnaryOp.RELU, 0, 0, out, out);
            return;
        }
        if (k == 0) {
            if (bias == null) fill(out, 0);
            else binary(BinaryOp.ADD, fillZero(out), expandRow(bias, m), out);
            return;
        }
        if (bias != null && !ep.biasRefused) {
            try {
                gpu.blas().matmul(stream, false, true, m, n, k, 1.0, ptr(x), k, 0, ptr(w), k, 0, 0.0, ptr(out), n, 0, 1,
                        ab, cType, ct, CublasLt.EPILOGUE_BIAS, ptr(bias));
                return;
            } catch (CudaException e) {
                ep.biasRefused = true;
                System.err.println("transformers4j: cuBLASLt refused the bias epilogue for " + ep.what + " products ("
                        + e.getMessage() + "); linear layers add their bias in a separate kernel");
            }
        }
        gpu.blas().matmul(stream, false, true, m, n, k, 1.0, ptr(x), k, 0, ptr(w), k, 0, 0.0, ptr(out), n, 0, 1,
                ab, cType, ct);
        if (bias != null) binary(BinaryOp.ADD, out, expandRow(bias, m), out);
    }

    /**
     * gw [N, K] (fp32) = g^T @ x (operands of type ab: g [M, N], x [M, K]) and gb [N] (fp32) = column sums, from the
     * product's BGRADB epilogue or, if refused, from {@code gWide} (g in fp32); either output may be null.
     */
    private void weightGradProduct(Tensor g, Tensor x, Tensor gWide, Tensor gw, Tensor gb, CudaDataType ab, ComputeType ct,
                                   Epilogues ep) {
        int m = g.size(0), n = g.size(1), k = x.size(1);
        if (gw == null || (long) n * k == 0) {
            if (gb != null) {
                if (m == 0) fill(gb, 0);
                else columnSums(gWide, m, n, gb);
            }
            return;
        }
        if (m == 0) {
            fill(gw, 0);
            if (gb != null) fill(gb, 0);
            return;
        }
        if (gb != null && !ep.bgradRefused) {
            try {
                gpu.blas().matmul(stream, true, false, n, k, m, 1.0, ptr(g), n, 0, ptr(x), k, 0, 0.0, ptr(gw), k, 0, 1,
                        ab, CudaDataType.F32, ct, CublasLt.EPILOGUE_BGRADB, ptr(gb));
                return;
            } catch (CudaException e) {
                ep.bgradRefused = true;
                System.err.println("transformers4j: cuBLASLt refused the bias-gradient epilogue for " + ep.what + " products ("
                        + e.getMessage() + "); linear layers sum their bias gradient in a separate kernel");
            }
        }
        gpu.blas().matmul(stream, true, false, n, k, m, 1.0, ptr(g), n, 0, ptr(x), k, 0, 0.0, ptr(gw), k, 0, 1,
                ab, CudaDataType.F32, ct);
        if (gb != null) columnSums(gWide, m, n, gb);
    }

    /** gb [N] (fp32) = column sums of g [M, N] (fp32 or low, widened first). */
    private void columnSums(Tensor g, int m, int n, Tensor gb) {
        if (g.dtype() == DType.F32) {
            reduce(ReduceOp.SUM, g, 1, m, n, gb, null);
            return;
        }
        Tensor wide = Tensor.full(0, DType.F32, g.device(), m, n); // only where cuBLASLt refused the BGRADB epilogue
        try {
            copy(g, wide);
            reduce(ReduceOp.SUM, wide, 1, m, n, gb, null);
        } finally {
            wide.release();
        }
    }

    /** bias [N] seen as [M, N] with row stride 0. */
    private static Tensor expandRow(Tensor bias, int m) {
        return bias.view(1, bias.size(0)).expand(m, bias.size(0));
    }

    private Tensor fillZero(Tensor t) {
        fill(t, 0);
        return t;
    }

    // ------------------------------------------------------------ fused dropout (random.cu), masked softmax (softmax.cu)

    @Override
    public boolean hasFusedDropout(DType dtype) {
        return (dtype == DType.F32 || dtype == DType.BF16) && !Boolean.getBoolean("t4j.cuda.noFusedDropout");
    }

    @Override
    public void dropout(Tensor x, Tensor out, double p, long seed, long offset) {
        boolean bf16 = x.dtype() == DType.BF16;
        if (x.dtype() != out.dtype() || !bf16 && x.dtype() != DType.F32) {
            throw new IllegalArgumentException("dropout on CUDA: fused kernel is F32 or BF16, got " + x.dtype() + " -> " + out.dtype());
        }
        long n = x.numel(), px = ptr(x), po = ptr(out), align = bf16 ? 8 : 16;
        launch("random.cu", bf16 ? "dropout_bf16" : "dropout_f32", Math.ceilDiv(n, 4), KernelArgs.of().ptr(px).ptr(po).f64(p)
                .f32((float) (1.0 / (1.0 - p))).i64(seed).i64(offset).ptr(offsetShift(seed)).i64(n)
                .i32(px % align == 0 && po % align == 0 ? 1 : 0));
    }

    /** F32: the mask is read inside the softmax kernel (no filled copy of the scores); else the default. */
    @Override
    public void maskedSoftmax(Tensor x, Tensor mask, Tensor out) {
        if (x.dtype() != DType.F32 || mask.dim() != 4 || mask.dtype() != DType.BOOL) {
            Backend.super.maskedSoftmax(x, mask, out);
            return;
        }
        long d = x.shape()[x.dim() - 1], rows = x.numel() / Math.max(d, 1);
        if (x.numel() == 0) return;
        launchRows("softmax.cu", "softmax_masked_forward_f32", rows, d, KernelArgs.of().ptr(ptr(x)).ptr(ptr(mask))
                .i64(mask.stride(0)).i64(mask.stride(1)).i64(mask.stride(2)).i64(mask.stride(3)).i64(mask.size(1))
                .i64(mask.size(2)).ptr(ptr(out)).i64(rows).i64(d));
    }

    @Override
    public boolean prefersFusedAttention() {
        return !Boolean.getBoolean("t4j.cuda.noFusedAttention");
    }

    // ------------------------------------------------------------ softmax (softmax.cu)

    @Override
    public void softmax(Tensor x, Tensor out, boolean log) {
        long d = x.shape()[x.dim() - 1], rows = x.numel() / Math.max(d, 1);
        if (x.numel() == 0) return;
        launchRows("softmax.cu", "softmax_forward_" + suffix("softmax", x.dtype()), rows, d,
                KernelArgs.of().ptr(ptr(x)).ptr(ptr(out)).i64(rows).i64(d).i32(log ? 1 : 0));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log) {
        long d = y.shape()[y.dim() - 1], rows = y.numel() / Math.max(d, 1);
        if (y.numel() == 0) return;
        launchRows("softmax.cu", "softmax_backward_" + suffix("softmax", y.dtype()), rows, d,
                KernelArgs.of().ptr(ptr(y)).ptr(ptr(gy)).ptr(ptr(gx)).i64(rows).i64(d).i32(log ? 1 : 0));
    }

    // ------------------------------------------------------------ layer norm (layernorm.cu)

    @Override
    public void layerNorm(Tensor x, Tensor w, Tensor b, double eps, Tensor y, Tensor mean, Tensor rstd) {
        long d = x.shape()[x.dim() - 1], rows = x.numel() / Math.max(d, 1);
        if (x.numel() == 0) return;
        launchLayerNormRows("layernorm_forward_", suffix("layerNorm", x.dtype()), rows, d, KernelArgs.of()
                .ptr(ptr(x)).ptr(ptr(w)).ptr(ptr(b)).f64(eps).ptr(ptr(y)).ptr(ptr(mean)).ptr(ptr(rstd)).i64(rows).i64(d));
    }

    /**
     * Rows of at most 1024: a warp per row holding it in registers, 4 rows per block (layernorm.cu's *_warp kernels, sized
     * to 256, 512 or 1024 elements); longer rows a block each.
     */
    private void launchLayerNormRows(String kernel, String sfx, long rows, long d, KernelArgs args) {
        String warp = d <= 256 ? "warp8_" : d <= 512 ? "warp16_" : "warp_";
        if (d <= 1024) fn("layernorm.cu", kernel + warp + sfx).launch(stream, (int) Math.min(Math.ceilDiv(rows, 4), 1 << 20), 128, 0, args);
        else launchRows("layernorm.cu", kernel + sfx, rows, d, args);
    }

    @Override
    public void layerNormBackward(Tensor gy, Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gx, Tensor gw, Tensor gb) {
        long d = x.shape()[x.dim() - 1], rows = x.numel() / Math.max(d, 1);
        String sfx = suffix("layerNormBackward", x.dtype());
        if (x.numel() == 0) {
            if (gw != null) fill(gw, 0);
            if (gb != null) fill(gb, 0);
            return;
        }
        launchLayerNormRows("layernorm_backward_", sfx, rows, d, KernelArgs.of().ptr(ptr(gy)).ptr(ptr(x))
                .ptr(ptr(w)).ptr(ptr(mean)).ptr(ptr(rstd)).ptr(ptr(gx)).i64(rows).i64(d));
        if (gw == null && gb == null) return;
        long target = 4L * maxGrid * BLOCK;
        // at least ~4 x 132 x 8 warps in flight: chunks of as few as 8 rows (32 left a few warps per SM, latency-bound)
        long chunks = Math.clamp(Math.ceilDiv(target, d), 1, Math.max(1, rows / 8));
        long chunk = Math.ceilDiv(rows, chunks);
        chunks = Math.ceilDiv(rows, chunk);
        try (DeviceBuffer partial = temp(8 * 2 * chunks * d)) {
            launch("layernorm.cu", "layernorm_backward_wb_" + sfx, d * chunks, KernelArgs.of().ptr(ptr(gy)).ptr(ptr(x))
                    .ptr(ptr(mean)).ptr(ptr(rstd)).ptr(partial).i64(rows).i64(d).i64(chunk).i64(chunks));
            launchRows("layernorm.cu", "layernorm_backward_wb_finish_" + sfx, d, chunks, KernelArgs.of().ptr(partial).i64(d)
                    .i64(chunks).ptr(ptr(gw)).ptr(ptr(gb)));
        }
    }

    // ------------------------------------------------------------ indexing (index.cu)

    @Override
    public void indexSelect(Tensor src, long outer, long n, long inner, Tensor index, Tensor out) {
        long m = index.numel();
        launch("index.cu", "index_select", outer * m * inner, KernelArgs.of().ptr(ptr(src)).i64(outer).i64(n)
                .i64(inner).ptr(ptr(index)).i64(m).ptr(ptr(out)).i32(src.dtype().byteSize()).ptr(errors));
    }

    @Override
    public void indexAdd(Tensor dst, long outer, long n, long inner, Tensor index, Tensor src) {
        long m = index.numel();
        boolean atomic = dst.dtype() == DType.F32 || dst.dtype() == DType.F64;
        KernelArgs args = KernelArgs.of().ptr(ptr(dst)).i32(code(dst)).i64(outer).i64(n).i64(inner).ptr(ptr(index))
                .i64(m).ptr(ptr(src)).ptr(errors);
        if (atomic) launch("index.cu", "index_add_atomic", outer * m * inner, args);
        else launch("index.cu", "index_add_serial", outer * inner, args);
    }

    /** Layout words for gather/scatter: index's shape with the strides of the indexed tensor. */
    private static long[] indexLayout(String op, Tensor index, Tensor indexed) {
        int nd = index.dim();
        if (nd > StridedLayout.MAX_DIMS) {
            throw new UnsupportedOperationException(op + " on CUDA supports up to " + StridedLayout.MAX_DIMS
                    + " dims, got " + nd);
        }
        long[] w = new long[1 + StridedLayout.MAX_DIMS + StridedLayout.MAX_TENSORS * StridedLayout.MAX_DIMS];
        if (nd == 0) {
            w[0] = 1;
            w[1] = 1;
            return w;
        }
        w[0] = nd;
        for (int d = 0; d < nd; d++) {
            w[1 + d] = index.size(d);
            w[1 + StridedLayout.MAX_DIMS + d] = indexed.stride(d);
        }
        return w;
    }

    @Override
    public void gather(Tensor src, int dim, Tensor index, Tensor out) {
        long total = index.numel();
        long size = src.dim() == 0 ? 1 : src.size(dim);
        launch("index.cu", "gather", total, KernelArgs.of().struct(indexLayout("gather", index, src)).i32(dim)
                .ptr(ptr(src)).i64(size).ptr(ptr(index)).ptr(ptr(out)).i32(src.dtype().byteSize()).i64(total).ptr(errors));
    }

    @Override
    public void scatterAdd(Tensor dst, int dim, Tensor index, Tensor src) {
        long total = index.numel();
        if (total == 0) return;
        long size = dst.dim() == 0 ? 1 : dst.size(dim);
        boolean atomic = dst.dtype() == DType.F32 || dst.dtype() == DType.F64;
        KernelArgs args = KernelArgs.of().struct(indexLayout("scatterAdd", index, dst)).i32(dim).ptr(ptr(dst))
                .i32(code(dst)).i64(size).ptr(ptr(index)).ptr(ptr(src)).i64(total).ptr(errors);
        if (atomic) launch("index.cu", "scatter_add_atomic", total, args);
        else fn("index.cu", "scatter_add_serial").launch(stream, 1, 1, 0, args);
    }

    // ------------------------------------------------------------ random (random.cu), conv (conv.cu), adam (adam.cu)

    @Override
    public void random(Tensor out, Distribution kind, long seed, long offset, double a, double b) {
        if (captureShifts != null) throw new Capture.CaptureException("random draws other than fused dropout cannot be replayed");
        long n = out.numel();
        launch("random.cu", "random_fill", Math.ceilDiv(n, 4), KernelArgs.of().ptr(ptr(out)).i32(code(out))
                .i32(kind.ordinal()).i64(seed).i64(offset).f64(a).f64(b).i64(n));
    }

    private KernelArgs convArgs(Tensor from, Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor to) {
        int h = x.size(2), w = x.size(3);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        return KernelArgs.of().ptr(ptr(from)).i32(code(x)).i32(x.size(0)).i32(x.size(1)).i32(h).i32(w)
                .i32(kh).i32(kw).i32(sh).i32(sw).i32(ph).i32(pw).i32(dh).i32(dw).i32(oh).i32(ow).ptr(ptr(to));
    }

    @Override
    public void im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor cols) {
        launch("conv.cu", "im2col", cols.numel(), convArgs(x, x, kh, kw, sh, sw, ph, pw, dh, dw, cols));
    }

    @Override
    public void col2im(Tensor cols, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor x) {
        launch("conv.cu", "col2im", x.numel(), convArgs(cols, x, kh, kw, sh, sw, ph, pw, dh, dw, x));
    }

    @Override
    public void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step, boolean decoupled) {
        String kernel = switch (p.dtype()) {
            case F32 -> "adam_f32";
            case F64 -> "adam_f64";
            default -> throw new IllegalArgumentException("adamStep on CUDA supports F32 and F64, got " + p.dtype());
        };
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        long n = p.numel();
        launch("adam.cu", kernel, n, KernelArgs.of().ptr(ptr(p)).ptr(ptr(g)).ptr(ptr(m)).ptr(ptr(v)).f64(lr)
                .f64(beta1).f64(beta2).f64(eps).f64(weightDecay).f64(lr / bc1).f64(Math.sqrt(bc2))
                .i32(decoupled ? 1 : 0).i64(n));
    }

    @Override
    public String toString() { return "CudaBackend[" + gpu + "]"; }

    // ------------------------------------------------------------ optional kernels (Backend.kernel)

    private final NnOps.MixedLinearKernel mixedLinear = new MixedLinear();
    private final NnOps.MultiAdamKernel multiAdam = this::adamMulti;
    private final Capture.Graphs graphs = this::capture;
    private final NnOps.ClipGradNormKernel clipGradNorm = this::clipGradNorm;
    private final NnOps.FlashAttentionKernel flashAttention = new FlashAttentionLauncher();
    private final NnOps.CrossEntropyKernel crossEntropy = new CrossEntropy();

    @Override
    public <K> Optional<K> kernel(FusedOp<K> op, DType dtype) {
        Object k = null;
        if (op.equals(NnOps.MIXED_LINEAR) && dtype == DType.BF16) k = mixedLinear;
        else if (op.equals(NnOps.MULTI_ADAM) && dtype == DType.F32 && !Boolean.getBoolean("t4j.cuda.noMultiAdam")) k = multiAdam;
        else if (op.equals(Capture.GRAPHS) && !Boolean.getBoolean("t4j.cuda.noGraphs")) k = graphs;
        else if (op.equals(NnOps.CLIP_GRAD_NORM) && dtype == DType.F32) k = clipGradNorm;
        else if (op.equals(NnOps.CROSS_ENTROPY) && (dtype == DType.F32 || dtype == DType.BF16) && fusedCrossEntropyEnabled()) k = crossEntropy;
        else if (op.equals(NnOps.FLASH_ATTENTION) && dtype == DType.BF16 && gpu.computeMajor() >= 8 // bf16 mma: sm_80+
                && flashAttentionEnabled()) k = flashAttention;
        return Optional.ofNullable(op.type().cast(k));
    }

    /**
     * The fused cross-entropy (passed on an H100: {@code CrossEntropyCudaTest}), on unless switched off with
     * {@code -Dt4j.cuda.fusedCrossEntropy=false} or {@code T4J_CUDA_FUSED_CROSS_ENTROPY=0}.
     */
    static boolean fusedCrossEntropyEnabled() {
        return switchedOn("t4j.cuda.fusedCrossEntropy", "T4J_CUDA_FUSED_CROSS_ENTROPY");
    }

    /**
     * Flash attention under bf16 autocast (passed on an H100: {@code FlashAttentionCudaTest}; faster than the
     * materialised composite on every workload of the GPU harness), on unless switched off with
     * {@code -Dt4j.cuda.flashAttention=false} or {@code T4J_CUDA_FLASH_ATTENTION=0}.
     */
    static boolean flashAttentionEnabled() {
        return switchedOn("t4j.cuda.flashAttention", "T4J_CUDA_FLASH_ATTENTION");
    }

    /** An optional kernel's switch: on unless the system property is "false" or, without it, the variable is "0". */
    private static boolean switchedOn(String property, String variable) {
        String p = System.getProperty(property);
        return p != null ? !p.equals("false") : !"0".equals(System.getenv(variable));
    }

    /** Cross-entropy without a log-softmax tensor (softmax.cu): a block per row, the backward reads the logits again. */
    private final class CrossEntropy implements NnOps.CrossEntropyKernel {
        @Override
        public void forward(Tensor logits, Tensor target, long ignoreIndex, double smoothing, Tensor loss, Tensor lse) {
            long rows = logits.size(0), c = logits.size(1);
            launchRows("softmax.cu", "cross_entropy_forward_" + suffix("crossEntropy", logits.dtype()), rows, c, KernelArgs.of()
                    .ptr(ptr(logits)).ptr(ptr(target)).i64(ignoreIndex).f32((float) smoothing).ptr(ptr(loss)).ptr(ptr(lse))
                    .i64(rows).i64(c).ptr(errors));
        }

        @Override
        public void backward(Tensor logits, Tensor target, long ignoreIndex, double smoothing, Tensor lse, Tensor g, Tensor gLogits) {
            long rows = logits.size(0), c = logits.size(1);
            launchRows("softmax.cu", "cross_entropy_backward_" + suffix("crossEntropy", logits.dtype()), rows, c, KernelArgs.of()
                    .ptr(ptr(logits)).ptr(ptr(target)).i64(ignoreIndex).f32((float) smoothing).ptr(ptr(lse)).ptr(ptr(g))
                    .ptr(ptr(gLogits)).i64(rows).i64(c));
        }
    }

    /**
     * linear under bf16 autocast: cuBLASLt with bf16 operands, fp32 accumulation, bf16 output, bf16 bias (and ReLU) in
     * the epilogue.
     */
    private final class MixedLinear implements NnOps.MixedLinearKernel {
        @Override
        public void forward(Tensor x, Tensor w, Tensor bias, boolean relu, Tensor out) {
            linearProduct(x, w, bias, relu, out, CudaDataType.BF16, ComputeType.F32, bf16Epilogues);
        }

        @Override
        public void inputGrad(Tensor g, Tensor w, Tensor gx) {
            int m = g.size(0), n = g.size(1), k = w.size(1);
            if ((long) m * k == 0) return;
            if (n == 0) {
                fill(gx, 0);
                return;
            }
            gpu.blas().matmul(stream, false, false, m, k, n, 1.0, ptr(g), n, 0, ptr(w), k, 0, 0.0, ptr(gx), k, 0, 1,
                    CudaDataType.BF16, dataType(gx.dtype()), ComputeType.F32);
        }

        @Override
        public void weightGrad(Tensor gLow, Tensor x, Tensor gw, Tensor gb) {
            weightGradProduct(gLow, x, gLow, gw, gb, CudaDataType.BF16, ComputeType.F32, bf16Epilogues);
        }
    }

    /**
     * Flash attention under bf16 autocast (attention.cu): forward one launch; backward D = rowsum(dout * out), then one
     * launch for keys of at most 128 (dk, dv and dq per (b, h)) or two (dk and dv per key block, dq per query block),
     * each gradient element written once. Tensors are (B, H, L, E) views with last stride 1; the params struct is
     * FlashParams's words in order (async16: bf16 operands 16-byte aligned, copied into shared memory with cp.async).
     */
    private final class FlashAttentionLauncher implements NnOps.FlashAttentionKernel {
        private static final int TILE = 64, PAD = 8, MAX_GRID_Y = 65535;
        /** Index of FlashParams.bh0 in the words. */
        private static final int BH0 = 8 * 4 + 5 + 2 + 4;
        /** Per kernel, the dynamic shared memory it has been allowed beyond the default 48 KB. */
        private final Map<String, Integer> sized = new ConcurrentHashMap<>();

        /**
         * Warps of a block over a sequence of length l, each owning 16 rows (queries, or keys in dkdv): a sequence of
         * at most 128 in one block of just enough warps (65: 5 warps), longer ones in blocks of 4 warps.
         */
        private static int warps(int l) {
            return l <= 128 ? Math.ceilDiv(l, 16) : 4;
        }

        @Override
        public boolean supports(int headDim) {
            return headDim == 32 || headDim == 64 || headDim == 128;
        }

        /**
         * Causal attention as a flag (tiles above the diagonal skipped, no mask read; passed on an H100:
         * {@code FlashAttentionCudaTest}), on unless switched off with {@code -Dt4j.cuda.flashCausal=false} or
         * {@code T4J_CUDA_FLASH_CAUSAL=0}; then the causal mask is read as any mask.
         */
        @Override
        public boolean supportsCausal() {
            return switchedOn("t4j.cuda.flashCausal", "T4J_CUDA_FLASH_CAUSAL");
        }

        /**
         * The forward and dq of sequences longer than 128 with two m-tiles (32 queries) per warp
         * ({@code flash_attn_fwd_m2_*}, {@code flash_attn_bwd_dq_m2_*}): opt-in with {@code -Dt4j.cuda.flashTwoTiles=true}
         * or {@code T4J_CUDA_FLASH_TWO_TILES=1}. Measured on an H100 (BENCHMARKS.md, session 10): 14-33% slower than one
         * tile per warp at L 257-1024 (239-255 registers leave 2 warps per scheduler), so off by default.
         */
        static boolean twoTilesPerWarp() {
            String p = System.getProperty("t4j.cuda.flashTwoTiles");
            return p != null ? p.equals("true") : "1".equals(System.getenv("T4J_CUDA_FLASH_TWO_TILES"));
        }

        /** Query m-tiles of 16 per warp of the forward and dq kernels ({@code *_m2_*} when 2). */
        private static int mTiles(int lq, int e) {
            return lq > 128 && e <= 64 && twoTilesPerWarp() ? 2 : 1;
        }

        /** Tile buffers of a loop over {@code l} rows in tiles of {@code tile}: two (copy one, compute the other) if it has several. */
        private static int buffers(int l, int tile) {
            return l > tile ? 2 : 1;
        }

        /** cuDNN's fused attention (CudnnAttention), made on first use; null when off or unavailable. */
        private CudnnAttention cudnn;
        private boolean cudnnTried;

        private synchronized CudnnAttention cudnn() {
            if (!CudnnAttention.enabled()) return null;
            if (!cudnnTried) {
                cudnnTried = true;
                cudnn = CudnnAttention.create(gpu);
            }
            return cudnn;
        }

        @Override
        public void forward(NnOps.FlashAttention a, Tensor out, Tensor lse) {
            CudnnAttention c = cudnn();
            if (c != null && c.accepts(a, out) && c.forward(a, out, lse, stream)) return;
            int e = a.q().size(3), lq = a.q().size(2), lk = a.k().size(2), wq = warps(lq);
            long[] p = params(a, out, null, null, null, null, lse, null);
            int mt = mTiles(lq, e);
            int smem = (16 * mt * wq + buffers(lk, TILE) * 2 * TILE) * (e + PAD) * 2 + banBytes(p);
            launch("flash_attn_fwd_" + (mt == 2 ? "m2_e" : "e") + e, Math.ceilDiv(lq, 16 * mt * wq), wq, p, smem);
        }

        /**
         * D = rowsum(dout * out), then keys of at most 128 in one kernel (a block per (b, h) holds them all and computes dq
         * too), longer ones in two (dk and dv per key block, dq per query block).
         */
        @Override
        public void backward(NnOps.FlashAttention a, Tensor out, Tensor lse, Tensor dout, Tensor delta, Tensor dq, Tensor dk, Tensor dv) {
            CudnnAttention c = cudnn();
            if (c != null && c.accepts(a, out, dout, dq, dk, dv) && c.backward(a, out, lse, dout, delta, dq, dk, dv, stream)) return;
            int e = a.q().size(3), bm = e == 128 ? 32 : 64; // bm: query rows per step of dkdv (BM in attention.cu)
            int lq = a.q().size(2), lk = a.k().size(2), wq = warps(lq), wk = warps(lk);
            long[] p = params(a, out, dout, dq, dk, dv, lse, delta);
            long rows = delta.numel();
            fn("attention.cu", "flash_attn_bwd_delta").launch(stream, (int) Math.min(Math.ceilDiv(rows, BLOCK / 32), maxGrid), BLOCK, 0,
                    KernelArgs.of().struct(p).i32(e));
            // Q, dout, lse, D and 4 keep words per query, per buffer
            int queryTiles = buffers(lq, bm) * (2 * bm * (e + PAD) * 2 + 2 * bm * 4 + 4 * bm * 4);
            if (lk <= 128) {
                int dsT = 16 * wk * (bm + PAD) * 2;
                launch("flash_attn_bwd_e" + e, 1, wk, p, 2 * 16 * wk * (e + PAD) * 2 + dsT + queryTiles);
            } else {
                launch("flash_attn_bwd_dkdv_e" + e, Math.ceilDiv(lk, 16 * wk), wk, p, 2 * 16 * wk * (e + PAD) * 2 + queryTiles);
                int mt = mTiles(lq, e), bq = 16 * mt * wq; // queries per block
                int keyTiles = buffers(lk, TILE) * (2 * TILE * (e + PAD) * 2 + 2 * bq * 4); // K, V and 2 keep words per query
                launch("flash_attn_bwd_dq_" + (mt == 2 ? "m2_e" : "e") + e, Math.ceilDiv(lq, bq), wq, p,
                        2 * bq * (e + PAD) * 2 + keyTiles + banBytes(p));
            }
        }

        /**
         * Grid (tiles, B*H) of blocks of {@code warps} warps, in launches of at most 65535 rows of y; shared memory
         * beyond 48 KB is opted into (once per kernel and size reached).
         */
        private void launch(String kernel, int tiles, int warps, long[] p, int smem) {
            CudaFunction f = fn("attention.cu", kernel);
            if (smem > sized.getOrDefault(kernel, 48 * 1024)) {
                f.setAttribute(CudaFunction.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem);
                sized.merge(kernel, smem, Math::max);
            }
            long bh = p[BH0 - 4] * p[BH0 - 3]; // B * H
            for (long bh0 = 0; bh0 < bh; bh0 += MAX_GRID_Y) {
                p[BH0] = bh0;
                f.launch(stream, tiles, (int) Math.min(MAX_GRID_Y, bh - bh0), 1, 32 * warps, 1, 1, smem, KernelArgs.of().struct(p));
            }
            p[BH0] = 0;
        }

        /** Shared memory of the key-padding mask's bits (FlashParams.ban_words, the last word of the params). */
        private static int banBytes(long[] p) {
            return (int) (4 * p[p.length - 1]);
        }

        private long[] params(NnOps.FlashAttention a, Tensor out, Tensor dout, Tensor dq, Tensor dk, Tensor dv, Tensor lse, Tensor delta) {
            Tensor q = a.q(), m = a.masked();
            Tensor[] mats = {q, a.k(), a.v(), out, dout, dq, dk, dv};
            long[] p = new long[BH0 + 14];
            int i = 0;
            boolean vec = true, bf16 = q.dtype() == DType.BF16, async = bf16;
            for (Tensor t : mats) {
                if (t != null && (t.dim() != 4 || t.stride(3) != 1 || t.dtype() != q.dtype() || !bf16 && t.dtype() != DType.F32)) {
                    throw new IllegalArgumentException("flash attention: expected (B, H, L, E) views with last stride 1, all F32 or "
                            + "all BF16, got " + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + " strides "
                            + java.util.Arrays.toString(t.stride()) + " (q " + q.dtype() + ")");
                }
                p[i++] = ptr(t);
                for (int d = 0; d < 3; d++) {
                    long s = t == null ? 0 : t.stride(d);
                    p[i++] = s;
                    vec &= s % 4 == 0;
                    async &= s % 8 == 0;
                }
                vec &= ptr(t) % (bf16 ? 8 : 16) == 0;
                async &= ptr(t) % 16 == 0;
            }
            p[i++] = ptr(m);
            for (int d = 0; d < 4; d++) p[i++] = m == null ? 0 : m.stride(d);
            p[i++] = ptr(lse);
            p[i++] = ptr(delta);
            p[i++] = q.size(0);
            p[i++] = q.size(1);
            p[i++] = q.size(2);
            p[i++] = a.k().size(2);
            if (i != BH0) throw new IllegalStateException("FlashParams layout");
            p[i++] = 0; // bh0, set per launch
            double drop = a.dropoutP();
            p[i++] = Double.doubleToRawLongBits(a.scale());
            p[i++] = Double.doubleToRawLongBits(drop > 0 ? 1.0 / (1.0 - drop) : 1.0);
            p[i++] = drop > 0 ? (long) Math.ceil(drop * 16777216.0) : 0; // keep when (bits >> 8) >= ceil(p 2^24), i.e. u >= p
            p[i++] = a.seed();
            p[i++] = a.offset();
            p[i++] = drop > 0 ? offsetShift(a.seed()) : 0;
            if (drop > 0 && (a.keep() == null || a.keep().numel() < (long) q.size(0) * q.size(1) * q.size(2)
                    * NnOps.flashKeepWords(a.k().size(2)))) {
                throw new IllegalArgumentException("flash attention: dropout needs the keep-bit buffer (NnOps.FlashAttention.keep)");
            }
            p[i++] = drop > 0 ? ptr(a.keep()) : 0;
            p[i++] = NnOps.flashKeepWords(a.k().size(2));
            p[i++] = vec ? 1 : 0;
            p[i++] = bf16 ? 1 : 0;
            p[i++] = a.causal() ? 1 : 0;
            p[i++] = async ? 1 : 0;
            // a mask of keys only (query stride 0: key padding) as bits in shared memory, up to 32768 keys (4 KB)
            int lk = a.k().size(2);
            p[i++] = m != null && m.stride(2) == 0 && lk <= 32768 ? NnOps.flashKeepWords(lk) : 0;
            if (i != p.length) throw new IllegalStateException("FlashParams layout");
            return p;
        }
    }

    /** Tensors per adam_multi_f32 launch (ADAM_MULTI in adam.cu: the table is passed by value, 6 x 48 words). */
    static final int ADAM_MULTI = 48;

    private void adamMulti(List<Tensor> p, List<Tensor> g, List<Tensor> m, List<Tensor> v, List<Tensor> lows, Tensor hyper) {
        for (int s = 0; s < p.size(); s += ADAM_MULTI) {
            int c = Math.min(ADAM_MULTI, p.size() - s);
            long[] table = tensorTable(p, g, m, v, lows, s, c);
            launch("adam.cu", "adam_multi_f32", elements(table), KernelArgs.of().struct(table).i32(c).ptr(ptr(hyper) + 8L * 8 * s));
        }
    }

    /**
     * adam.cu's by-value table for the tensors [from, from + count) of the lists (a null list leaves its column 0, as
     * does a null entry of lows): p, g, m, v and bf16-copy pointers, then the prefix sums of g's sizes.
     */
    private static long[] tensorTable(List<Tensor> p, List<Tensor> g, List<Tensor> m, List<Tensor> v, List<Tensor> lows,
                                      int from, int count) {
        long[] table = new long[6 * ADAM_MULTI];
        List<List<Tensor>> columns = java.util.Arrays.asList(p, g, m, v, lows);
        long end = 0;
        for (int i = 0; i < ADAM_MULTI; i++) {
            if (i < count) {
                for (int c = 0; c < columns.size(); c++) {
                    Tensor t = columns.get(c) == null ? null : columns.get(c).get(from + i);
                    table[c * ADAM_MULTI + i] = t == null ? 0 : ptr(t);
                }
                end += g.get(from + i).numel();
            }
            table[5 * ADAM_MULTI + i] = end;
        }
        return table;
    }

    /** The number of elements a table covers (its last prefix sum). */
    private static long elements(long[] table) {
        return table[table.length - 1];
    }

    /** Partial sums of squares per block of every launch, one block for the coefficient, then the scaling: no host read. */
    private void clipGradNorm(List<Tensor> grads, double maxNorm, Tensor normCoef) {
        int launches = Math.ceilDiv(grads.size(), ADAM_MULTI);
        long[][] tables = new long[launches][];
        int[] counts = new int[launches], blocks = new int[launches];
        long partials = 0;
        for (int c = 0; c < launches; c++) {
            counts[c] = Math.min(ADAM_MULTI, grads.size() - c * ADAM_MULTI);
            tables[c] = tensorTable(null, grads, null, null, null, c * ADAM_MULTI, counts[c]);
            blocks[c] = elements(tables[c]) == 0 ? 0 : grid(elements(tables[c]));
            partials += blocks[c];
        }
        try (DeviceBuffer partial = temp(8 * Math.max(1, partials))) {
            long at = 0;
            for (int c = 0; c < launches; c++) {
                if (blocks[c] == 0) continue;
                fn("adam.cu", "grad_sumsq").launch(stream, blocks[c], BLOCK, 0,
                        KernelArgs.of().struct(tables[c]).i32(counts[c]).ptr(partial.pointer() + 8 * at));
                at += blocks[c];
            }
            fn("adam.cu", "grad_clip_coef").launch(stream, 1, BLOCK, 0,
                    KernelArgs.of().ptr(partial).i64(at).f64(maxNorm).ptr(ptr(normCoef)));
            for (int c = 0; c < launches; c++) {
                if (blocks[c] == 0) continue;
                launch("adam.cu", "grad_scale", (long) blocks[c] * BLOCK,
                        KernelArgs.of().struct(tables[c]).i32(counts[c]).ptr(ptr(normCoef)));
            }
        }
    }

    // ------------------------------------------------------------ graph capture (Capture.GRAPHS)

    /**
     * While a step is recorded: per generator seed, the device word its dropout kernels add to their offsets (null when
     * not recording); and the zero that eager dropout kernels read instead.
     */
    private Map<Long, DeviceBuffer> captureShifts;
    private DeviceBuffer zeroShift;

    private long offsetShift(long seed) {
        if (captureShifts != null) return captureShifts.computeIfAbsent(seed, k -> gpu.allocate(8, stream)).pointer();
        if (zeroShift == null) {
            zeroShift = gpu.allocate(8, stream);
            stream.memsetD8Async(zeroShift.pointer(), (byte) 0, 8);
        }
        return zeroShift.pointer();
    }

    /**
     * Runs {@code step} once for real with its memory from a private pool, then records it (not run) into a graph
     * that replays with the same memory. Relaxed capture mode: allocator calls are allowed while recording.
     */
    private Capture.Graph capture(Runnable step) {
        synchronize();
        offsetShift(0); // the eager zero exists before any capture
        CachingAllocator allocator = gpu.allocator();
        int pool = allocator.beginPool();
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            allocator.endPool();
            allocator.releasePool(pool);
            throw e;
        }
        Map<Long, DeviceBuffer> shifts = new HashMap<>();
        Capture.Session session = Capture.begin();
        captureShifts = shifts;
        RuntimeException failure = null;
        CudaGraph graph = null;
        boolean recording = false;
        try {
            stream.beginCapture(Driver.CU_STREAM_CAPTURE_MODE_RELAXED);
            recording = true;
            step.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            if (recording) graph = stream.endCapture();
        } catch (RuntimeException e) {
            if (failure == null) failure = e;
        } finally {
            captureShifts = null;
            allocator.endPool();
            try {
                Capture.end();
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
            }
        }
        if (failure != null) {
            if (graph != null) graph.close();
            shifts.values().forEach(DeviceBuffer::close);
            allocator.releasePool(pool);
            throw failure instanceof Capture.CaptureException ce ? ce
                    : new Capture.CaptureException("recording failed: " + failure);
        }
        return new CapturedStep(graph, session, shifts, pool);
    }

    private final class CapturedStep implements Capture.Graph {
        private final CudaGraph graph;
        private final Capture.Session session;
        private final Map<Long, DeviceBuffer> shifts;
        private final int pool;

        CapturedStep(CudaGraph graph, Capture.Session session, Map<Long, DeviceBuffer> shifts, int pool) {
            this.graph = graph;
            this.session = session;
            this.shifts = shifts;
            this.pool = pool;
        }

        @Override
        public void replay() {
            Map<Long, Long> deltas = session.prepareReplay();
            synchronized (hostLock) {
                for (var e : shifts.entrySet()) {
                    long[] delta = {deltas.getOrDefault(e.getKey(), 0L)};
                    uploads.upload(MemorySegment.ofArray(delta), e.getValue().pointer(), 8);
                }
            }
            graph.launch(stream);
        }

        @Override
        public void close() {
            synchronize();
            graph.close();
            shifts.values().forEach(DeviceBuffer::close);
            gpu.allocator().releasePool(pool);
        }
    }
}
