package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.ReduceOp;
import io.github.transformers4j.tensor.Storage;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CUDA backend of one GPU: every {@link Backend} op as NVRTC-compiled kernels ({@code kernels/*.cu}, one file per
 * family, forward and backward together) or cuBLASLt products, queued on the device's default stream. Semantics are
 * the CPU backend's ({@code tensor.cpu}); sums accumulate in double, products run in pure fp32 unless TF32 is allowed
 * ({@code -Dt4j.cuda.tf32=true}, env {@code T4J_CUDA_TF32=true} or {@link #allowTf32(boolean)}).
 *
 * <p>Work is asynchronous: only {@link #copyToHost}, {@link #copyFromHost} and {@link #synchronize} wait. A bad index
 * found by a kernel is raised as an {@link IndexOutOfBoundsException} at the next of those (as CUDA reports device-side
 * errors late). index_add and scatter_add use float atomics (last-bit differences between runs).
 */
public final class CudaBackend implements Backend {
    static final int BLOCK = 256;
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

    @Override
    public void copyFromHost(MemorySegment src, Tensor dst) {
        long bytes = dst.numel() * dst.dtype().byteSize();
        if (bytes == 0) return;
        long to = ptr(dst);
        synchronized (hostLock) {
            if (src.isNative()) {
                stream.copyToDeviceAsync(src, to, bytes);
            } else {
                MemorySegment stage = staging(bytes);
                for (long done = 0; done < bytes; done += stage.byteSize()) {
                    long n = Math.min(stage.byteSize(), bytes - done);
                    if (done > 0) stream.synchronize(); // the previous chunk left the staging buffer
                    MemorySegment.copy(src, done, stage, 0, n);
                    stream.copyToDeviceAsync(stage, to + done, n);
                }
            }
            // the caller may free or reuse src as soon as we return
            stream.synchronize();
        }
        checkErrors();
    }

    @Override
    public void copyToHost(Tensor src, MemorySegment dst) {
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
                launch("copy.cu", "copy_contiguous", n, KernelArgs.of().ptr(ptr(src)).i32(code(st)).ptr(ptr(dst))
                        .i32(code(dt)).i32(dt.byteSize()).i64(n));
            }
            return;
        }
        StridedLayout layout = StridedLayout.of(dst.shape(), src.stride(), dst.stride());
        long ps = ptr(src), pd = ptr(dst);
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
            launch("unary.cu", "unary_" + suffix("unary", xt), n, KernelArgs.of().i32(op.ordinal()).f64(p0).f64(p1)
                    .ptr(ptr(x)).ptr(ptr(out)).i64(n));
        } else {
            launch("unary.cu", "unary_generic", n, KernelArgs.of().i32(op.ordinal()).f64(p0).f64(p1)
                    .ptr(ptr(x)).i32(code(xt)).ptr(ptr(out)).i32(code(out)).i64(n));
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (out.numel() == 0) return;
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException("binary " + op + " on CUDA: operand dtypes differ: " + a.dtype() + " and " + b.dtype());
        }
        DType t = a.dtype(), ot = out.dtype();
        StridedLayout layout = StridedLayout.of(out.shape(), a.stride(), b.stride(), out.stride());
        long pa = ptr(a), pb = ptr(b), po = ptr(out);
        int es = t.byteSize(), os = ot.byteSize();
        for (StridedLayout.Chunk c : layout.chunks()) {
            long n = c.inner().numel();
            long ca = pa + c.offsets()[0] * es, cb = pb + c.offsets()[1] * es, co = po + c.offsets()[2] * os;
            if (t.isFloatingPoint()) {
                launch("binary.cu", "binary_" + suffix("binary", t), n, KernelArgs.of().i32(op.ordinal())
                        .struct(c.inner().words()).ptr(ca).ptr(cb).ptr(co).i64(n));
            } else {
                launch("binary.cu", "binary_generic", n, KernelArgs.of().i32(op.ordinal()).struct(c.inner().words())
                        .ptr(ca).ptr(cb).i32(code(t)).ptr(co).i32(code(ot)).i64(n));
            }
        }
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
                    blasMatmul(t, oa, ob, batch, m, n, k, ptr(out), accumulate);
                    return;
                } catch (CudaException first) {
                    try { // once more with both operands materialized (batch stride 0, unusual pitches)
                        if (ca == null) oa = operand(ca = contiguousCopy(a), m, k);
                        if (cb == null) ob = operand(cb = contiguousCopy(b), k, n);
                        blasMatmul(t, oa, ob, batch, m, n, k, ptr(out), accumulate);
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

    private void blasMatmul(DType t, Operand a, Operand b, int batch, int m, int n, int k, long out, boolean accumulate) {
        // a batch of row-major, untransposed A over contiguous batches with a shared B is one tall product
        if (batch > 1 && b.batchStride() == 0 && !a.trans() && a.batchStride() == (long) m * a.ld()) {
            m *= batch;
            batch = 1;
        }
        CudaDataType ct = switch (t) {
            case F32 -> CudaDataType.F32;
            case F64 -> CudaDataType.F64;
            case BF16 -> CudaDataType.BF16;
            case F16 -> CudaDataType.F16;
            default -> throw new IllegalArgumentException("matmul on CUDA needs a floating-point dtype, got " + t);
        };
        ComputeType compute = t == DType.F64 ? ComputeType.F64 : t == DType.F32 && tf32 ? ComputeType.TF32 : ComputeType.F32;
        gpu.blas().matmul(stream, a.trans(), b.trans(), m, n, k, 1.0, a.pointer(), a.ld(), a.batchStride(),
                b.pointer(), b.ld(), b.batchStride(), accumulate ? 1.0 : 0.0, out, n, (long) m * n, batch, ct, compute);
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
        launchRows("layernorm.cu", "layernorm_forward_" + suffix("layerNorm", x.dtype()), rows, d, KernelArgs.of()
                .ptr(ptr(x)).ptr(ptr(w)).ptr(ptr(b)).f64(eps).ptr(ptr(y)).ptr(ptr(mean)).ptr(ptr(rstd)).i64(rows).i64(d));
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
        launchRows("layernorm.cu", "layernorm_backward_" + sfx, rows, d, KernelArgs.of().ptr(ptr(gy)).ptr(ptr(x))
                .ptr(ptr(w)).ptr(ptr(mean)).ptr(ptr(rstd)).ptr(ptr(gx)).i64(rows).i64(d));
        if (gw == null && gb == null) return;
        long target = 4L * maxGrid * BLOCK;
        long chunks = Math.clamp(Math.ceilDiv(target, d), 1, Math.max(1, rows / 32));
        long chunk = Math.ceilDiv(rows, chunks);
        chunks = Math.ceilDiv(rows, chunk);
        try (DeviceBuffer partial = temp(8 * 2 * chunks * d)) {
            launch("layernorm.cu", "layernorm_backward_wb_" + sfx, d * chunks, KernelArgs.of().ptr(ptr(gy)).ptr(ptr(x))
                    .ptr(ptr(mean)).ptr(ptr(rstd)).ptr(partial).i64(rows).i64(d).i64(chunk).i64(chunks));
            launch("layernorm.cu", "layernorm_backward_wb_finish_" + sfx, d, KernelArgs.of().ptr(partial).i64(d)
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
        long n = out.numel();
        launch("random.cu", "random_fill", Math.ceilDiv(n, 4), KernelArgs.of().ptr(ptr(out)).i32(code(out))
                .i32(kind.ordinal()).i64(seed).i64(offset).f64(a).f64(b).i64(n));
    }

    private KernelArgs convArgs(Tensor from, Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, Tensor to) {
        int h = x.size(2), w = x.size(3);
        int oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
        return KernelArgs.of().ptr(ptr(from)).i32(code(x)).i32(x.size(0)).i32(x.size(1)).i32(h).i32(w)
                .i32(kh).i32(kw).i32(sh).i32(sw).i32(ph).i32(pw).i32(oh).i32(ow).ptr(ptr(to));
    }

    @Override
    public void im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, Tensor cols) {
        launch("conv.cu", "im2col", cols.numel(), convArgs(x, x, kh, kw, sh, sw, ph, pw, cols));
    }

    @Override
    public void col2im(Tensor cols, int kh, int kw, int sh, int sw, int ph, int pw, Tensor x) {
        launch("conv.cu", "col2im", x.numel(), convArgs(cols, x, kh, kw, sh, sw, ph, pw, x));
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
}
