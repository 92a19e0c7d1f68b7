package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Set;

/**
 * Flash attention by cuDNN's fused SDPA engines: the graphs cuDNN's frontend builds for scaled dot-product attention
 * (matmul, scale, [causal mask], softmax with its statistics, matmul; and the backward's 20-odd operations), spelled
 * out through the backend API ({@link Cudnn.Graph}), which the engines recognise and run as one fused kernel each way.
 *
 * <p>Takes the calls {@link #accepts} says it can: bf16 operands (B, H, L, E) with last stride 1 and 16-byte aligned
 * rows, no mask other than causal (top-left: query i sees keys j <= i), no dropout, E a multiple of 8 up to 128, at
 * least {@link #minKeys()} keys. The statistics it writes are the natural-log row log-sum-exp of the scaled scores,
 * the same as the own kernels' lse, so either backward can follow either forward. Plans are built once per shape and
 * layout; a shape cuDNN refuses is remembered, said once on stderr, and left to the own kernels.
 */
final class CudnnAttention {
    /** cuDNN before 9.16 needs the frontend's padding workaround in the backward when Lk is not a multiple of 128. */
    static final long MIN_VERSION = 91600;

    private final CudaDevice device;
    private final Cudnn cudnn;
    /** Plans by shape and layout, and the keys cuDNN refused (guarded by this: forward and backward are synchronized). */
    private final Map<String, Built> plans = new java.util.HashMap<>();
    private final Set<String> refused = new java.util.HashSet<>();
    /** The by-value scalars' host memory: scale, 1, -inf (read by cuDNN when a plan is executed). */
    private final MemorySegment scalars = Arena.ofAuto().allocate(16, 16);

    /** A plan and its non-virtual tensors in the order {@link #forward} / {@link #backward} give their pointers. */
    private record Built(Cudnn.Plan plan, long[] tensors) {}

    private CudnnAttention(CudaDevice device) {
        this.device = device;
        this.cudnn = new Cudnn(device);
        scalars.setAtIndex(JAVA_FLOAT, 1, 1f);
        scalars.setAtIndex(JAVA_FLOAT, 2, Float.NEGATIVE_INFINITY);
    }

    /**
     * Whether cuDNN's attention is used where it {@linkplain #accepts accepts} a call: on unless switched off with
     * {@code -Dt4j.cuda.cudnnAttention=false} or {@code T4J_CUDA_CUDNN_ATTENTION=0}. On since its tests passed on an H100
     * with cuDNN 9.19 (2026-12-08), where fwd+bwd bf16 (B 128, H 4, E 64) ran at 109 TFLOP/s at L 257 and 296-305 at
     * L 1024 against the own kernels' 40 and 75 (BENCHMARKS.md). Read at every call, so that a test can compare with
     * and without.
     */
    static boolean enabled() {
        String p = System.getProperty("t4j.cuda.cudnnAttention");
        if (p != null) return !p.equals("false");
        return !"0".equals(System.getenv("T4J_CUDA_CUDNN_ATTENTION"));
    }

    /**
     * cuDNN's attention for {@code device} when cuDNN is found, at least 9.16, and the GPU is sm_80+; else null, with
     * the reason said once on stderr.
     */
    static CudnnAttention create(CudaDevice device) {
        String why = Cudnn.unavailableReason();
        if (why == null && Cudnn.version() < MIN_VERSION) why = "cuDNN " + Cudnn.versionString() + " is older than 9.16";
        if (why == null && device.computeMajor() < 8) why = "needs sm_80 or newer, " + device + " is " + device.arch();
        if (why != null) {
            System.err.println("cuDNN attention off (the own flash kernels run): " + why);
            return null;
        }
        try {
            return new CudnnAttention(device);
        } catch (RuntimeException e) {
            System.err.println("cuDNN attention off (the own flash kernels run): " + e.getMessage());
            return null;
        }
    }

    private static final java.util.concurrent.atomic.LongAdder EXECUTIONS = new java.util.concurrent.atomic.LongAdder();

    /** Plans executed since start (forward and backward each count one), over all devices. */
    static long executions() { return EXECUTIONS.sum(); }

    /** Keys below which the own kernels run (faster on short sequences): {@code -Dt4j.cuda.cudnnAttentionMinKeys}, default 129. */
    static int minKeys() {
        return Integer.getInteger("t4j.cuda.cudnnAttentionMinKeys", 129);
    }

    /** Whether the call fits cuDNN's engines and this class (see the class comment), its operands included. */
    boolean accepts(NnOps.FlashAttention a, Tensor... operands) {
        Tensor q = a.q();
        int e = q.size(3), lk = a.k().size(2);
        if (q.dtype() != DType.BF16 || a.masked() != null || a.dropoutP() != 0 || e % 8 != 0 || e > 128 || lk < minKeys()
                || lk < 2) {
            return false;
        }
        for (Tensor t : new Tensor[] {q, a.k(), a.v()}) if (!fits(t)) return false;
        for (Tensor t : operands) if (t != null && !fits(t)) return false;
        return true;
    }

    private static boolean fits(Tensor t) {
        if (t.dtype() != DType.BF16 || t.dim() != 4 || t.stride(3) != 1 || CudaBackend.ptr(t) % 16 != 0) return false;
        for (int d = 0; d < 3; d++) if (t.stride(d) % 8 != 0) return false;
        return true;
    }

    /** out (B, H, Lq, E) and lse F32 (B*H, Lq); false (nothing written) when cuDNN refuses the shape. */
    synchronized boolean forward(NnOps.FlashAttention a, Tensor out, Tensor lse, CudaStream stream) {
        Tensor q = a.q(), k = a.k(), v = a.v();
        String key = "fwd " + shape(a) + layout(q, k, v, out);
        Built b = built(key, () -> buildForward(a, out));
        if (b == null) return false;
        scalars.setAtIndex(JAVA_FLOAT, 0, (float) a.scale());
        long s = scalars.address();
        long[] ptrs = a.causal()
                ? new long[] {ptr(q), ptr(k), ptr(v), ptr(out), ptr(lse), s, s + 8}
                : new long[] {ptr(q), ptr(k), ptr(v), ptr(out), ptr(lse), s};
        execute(b, ptrs, stream);
        return true;
    }

    /** dq, dk, dv for dout; delta F32 (B*H, Lq) is the backward's row sums of dout * out. False when cuDNN refuses the shape. */
    synchronized boolean backward(NnOps.FlashAttention a, Tensor out, Tensor lse, Tensor dout, Tensor delta, Tensor dq, Tensor dk,
            Tensor dv, CudaStream stream) {
        Tensor q = a.q(), k = a.k(), v = a.v();
        String key = "bwd " + shape(a) + layout(q, k, v, out, dout, dq, dk, dv);
        Built b = built(key, () -> buildBackward(a, out, dout, dq, dk, dv));
        if (b == null) return false;
        int bs = q.size(0), h = q.size(1), lq = q.size(2), e = q.size(3);
        DeviceBuffer dqAccum = device.allocate(4L * bs * h * lq * e, stream); // fp32 dq, summed over key blocks
        scalars.setAtIndex(JAVA_FLOAT, 0, (float) a.scale());
        long s = scalars.address();
        long[] ptrs = {ptr(q), ptr(k), ptr(v), ptr(out), ptr(dout), ptr(lse), ptr(dq), ptr(dk), ptr(dv), ptr(delta), dqAccum.pointer(),
                s, s + 4, s + 8};
        try {
            execute(b, a.causal() ? ptrs : java.util.Arrays.copyOf(ptrs, ptrs.length - 1), stream);
        } finally {
            dqAccum.close();
        }
        return true;
    }

    private void execute(Built b, long[] ptrs, CudaStream stream) {
        long ws = b.plan().workspaceBytes();
        DeviceBuffer w = ws > 0 ? device.allocate(ws, stream) : null;
        try {
            b.plan().execute(stream, b.tensors(), ptrs, w == null ? 0 : w.pointer());
            EXECUTIONS.increment();
        } finally {
            if (w != null) w.close();
        }
    }

    /** The plan for key, built on first use; null when cuDNN refused it (said once). */
    private Built built(String key, java.util.function.Supplier<Built> build) {
        Built b = plans.get(key);
        if (b != null || refused.contains(key)) return b;
        try {
            b = build.get();
            plans.put(key, b);
            if (Boolean.getBoolean("t4j.cuda.cudnnVerbose")) {
                System.err.println("cuDNN attention: " + key + ": " + b.plan().engine() + ", workspace " + b.plan().workspaceBytes() + " B");
            }
            return b;
        } catch (CudaException e) {
            refused.add(key);
            System.err.println("cuDNN attention: " + key + " refused (" + e.getMessage() + "); the own kernels run it");
            return null;
        }
    }

    private static long ptr(Tensor t) {
        return CudaBackend.ptr(t);
    }

    private static String shape(NnOps.FlashAttention a) {
        Tensor q = a.q();
        return "B" + q.size(0) + " H" + q.size(1) + " Lq" + q.size(2) + " Lk" + a.k().size(2) + " E" + q.size(3)
                + (a.causal() ? " causal" : "");
    }

    private static String layout(Tensor... ts) {
        StringBuilder sb = new StringBuilder(" strides");
        for (Tensor t : ts) sb.append(' ').append(t.stride(0)).append(',').append(t.stride(1)).append(',').append(t.stride(2));
        return sb.toString();
    }

    // ------------------------------------------------------------ the graphs (cuDNN frontend's SDPA spelling)

    private static long[] dims(Tensor t) { return new long[] {t.size(0), t.size(1), t.size(2), t.size(3)}; }

    private static long[] strides(Tensor t) { return new long[] {t.stride(0), t.stride(1), t.stride(2), t.stride(3)}; }

    /** t (B, H, L, E) seen as (B, H, E, L): the last two dims and strides swapped. */
    private static long[][] transposed(Tensor t) {
        return new long[][] {{t.size(0), t.size(1), t.size(3), t.size(2)}, {t.stride(0), t.stride(1), t.stride(3), t.stride(2)}};
    }

    /** Dense (b, h, rows, cols) strides. */
    private static long[] dense(long b, long h, long rows, long cols) {
        return new long[] {h * rows * cols, rows * cols, cols, 1};
    }

    /**
     * S = q k^T; S *= scale; [causal: S = row >= col ? S : -inf]; m = rowmax S; E = exp(S - m); z = rowsum E;
     * stats = m + log z; P = E / z (bf16); out = P v. Tensors in pointer order: q, k^T, v, out, stats, scale[, -inf].
     */
    private Built buildForward(NnOps.FlashAttention a, Tensor out) {
        Cudnn.Graph g = cudnn.graph("sdpa forward");
        try {
            return forwardGraph(g, a, out);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    private static Built forwardGraph(Cudnn.Graph g, NnOps.FlashAttention a, Tensor out) {
        Tensor q = a.q(), k = a.k(), v = a.v();
        long b = q.size(0), h = q.size(1), sq = q.size(2), sk = k.size(2);
        long[] sDims = {b, h, sq, sk}, sStr = dense(b, h, sq, sk), rDims = {b, h, sq, 1}, rStr = dense(b, h, sq, 1);
        int bf = Cudnn.BFLOAT16, f = Cudnn.FLOAT;
        long tq = g.tensor(bf, dims(q), strides(q), false);
        long[][] kt = transposed(k);
        long tkt = g.tensor(bf, kt[0], kt[1], false);
        long tv = g.tensor(bf, dims(v), strides(v), false);
        long to = g.tensor(bf, dims(out), strides(out), false);
        long stats = g.tensor(f, rDims, rStr, false);
        long scale = g.scalar();
        long negInf = a.causal() ? g.scalar() : 0;

        long s1 = g.tensor(f, sDims, sStr, true);
        g.matmul(tq, tkt, s1);
        long s2 = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.MUL, s1, scale, s2);
        if (a.causal()) s2 = causalMask(g, s2, negInf, sDims, sStr);
        long m = g.tensor(f, rDims, rStr, true);
        g.reduction(Cudnn.REDUCE_MAX, s2, m);
        long s4 = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.SUB, s2, m, s4);
        long ex = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.EXP, s4, 0, ex);
        long z = g.tensor(f, rDims, rStr, true);
        g.reduction(Cudnn.REDUCE_ADD, ex, z);
        long lz = g.tensor(f, rDims, rStr, true);
        g.pointwise(Cudnn.LOG, z, 0, lz);
        g.pointwise(Cudnn.ADD, m, lz, stats);
        long p = g.tensor(bf, sDims, sStr, true);
        g.pointwise(Cudnn.DIV, ex, z, p);
        g.matmul(p, tv, to);
        Cudnn.Plan plan = g.plan();
        return new Built(plan, a.causal() ? new long[] {tq, tkt, tv, to, stats, scale, negInf} : new long[] {tq, tkt, tv, to, stats, scale});
    }

    /** s where row >= col, else -inf: GEN_INDEX of both axes, CMP_GE, BINARY_SELECT (the frontend's causal mask). */
    private static long causalMask(Cudnn.Graph g, long s, long negInf, long[] sDims, long[] sStr) {
        long row = g.tensor(Cudnn.INT32, sDims, sStr, true), col = g.tensor(Cudnn.INT32, sDims, sStr, true);
        g.pointwise(Cudnn.GEN_INDEX, Cudnn.FLOAT, s, 0, 0, row, 2);
        g.pointwise(Cudnn.GEN_INDEX, Cudnn.FLOAT, s, 0, 0, col, 3);
        long keep = g.tensor(Cudnn.BOOLEAN, sDims, sStr, true);
        g.pointwise(Cudnn.CMP_GE, Cudnn.BOOLEAN, row, col, 0, keep, -1);
        long masked = g.tensor(Cudnn.FLOAT, sDims, sStr, true);
        g.pointwise(Cudnn.BINARY_SELECT, Cudnn.FLOAT, s, negInf, keep, masked, -1);
        return masked;
    }

    /**
     * delta = rowsum(dout * out); S = scale q k^T [causal]; P = exp(S - stats); dv = P^T dout; dP = dout v^T;
     * dS = scale P (dP - delta); dk = dS^T q; dq = dS k (accumulated in fp32, then converted). Tensors in pointer
     * order: q, k^T, v^T, out, dout, stats, dq, dk, dv, delta, dq accumulator, scale, one[, -inf].
     */
    private Built buildBackward(NnOps.FlashAttention a, Tensor out, Tensor dout, Tensor dq, Tensor dk, Tensor dv) {
        CudaException first = null;
        // the frontend gives the re-transposed K an fp32 type, others bf16; both are in use: fp32 first
        for (int kType : new int[] {Cudnn.FLOAT, Cudnn.BFLOAT16}) {
            try {
                return buildBackward(a, out, dout, dq, dk, dv, kType);
            } catch (CudaException e) {
                if (first == null) first = e;
                if (!Cudnn.notSupported(e)) throw e;
            }
        }
        throw first;
    }

    private Built buildBackward(NnOps.FlashAttention a, Tensor out, Tensor dout, Tensor dq, Tensor dk, Tensor dv, int kType) {
        Cudnn.Graph g = cudnn.graph("sdpa backward");
        try {
            return backwardGraph(g, a, out, dout, dq, dk, dv, kType);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    private static Built backwardGraph(Cudnn.Graph g, NnOps.FlashAttention a, Tensor out, Tensor dout, Tensor dq, Tensor dk,
            Tensor dv, int kType) {
        Tensor q = a.q(), k = a.k(), v = a.v();
        long b = q.size(0), h = q.size(1), sq = q.size(2), sk = k.size(2), e = q.size(3);
        long[] sDims = {b, h, sq, sk}, sStr = dense(b, h, sq, sk), rDims = {b, h, sq, 1}, rStr = dense(b, h, sq, 1);
        long[] tDims = {b, h, sk, sq}, tStr = {h * sq * sk, sq * sk, 1, sk}; // S^T seen through S's memory
        int bf = Cudnn.BFLOAT16, f = Cudnn.FLOAT;
        long tq = g.tensor(bf, dims(q), strides(q), false);
        long[][] kt = transposed(k), vt = transposed(v);
        long tkt = g.tensor(bf, kt[0], kt[1], false);
        long tvt = g.tensor(bf, vt[0], vt[1], false);
        long to = g.tensor(bf, dims(out), strides(out), false);
        long tdo = g.tensor(bf, dims(dout), strides(dout), false);
        long stats = g.tensor(f, rDims, rStr, false);
        long tdq = g.tensor(bf, dims(dq), strides(dq), false);
        long tdk = g.tensor(bf, dims(dk), strides(dk), false);
        long tdv = g.tensor(bf, dims(dv), strides(dv), false);
        long delta = g.tensor(f, rDims, rStr, false);
        long dqAccum = g.tensor(f, new long[] {b, h, sq, e}, dense(b, h, sq, e), false);
        long scale = g.scalar(), one = g.scalar();
        long negInf = a.causal() ? g.scalar() : 0;

        long t1 = g.tensor(f, new long[] {b, h, sq, e}, new long[] {h * sq * e, sq * e, h * e, 1}, true); // the frontend's strides
        g.pointwise(Cudnn.MUL, tdo, to, t1);
        long t2 = g.tensor(f, rDims, rStr, true);
        g.reduction(Cudnn.REDUCE_ADD, t1, t2);
        g.pointwise(Cudnn.MUL, t2, one, delta);

        long s = g.tensor(f, sDims, sStr, true);
        g.matmul(tq, tkt, s);
        long s2 = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.MUL, s, scale, s2);
        long s3 = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.SUB, s2, stats, s3);
        if (a.causal()) s3 = causalMask(g, s3, negInf, sDims, sStr);
        long p = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.EXP, s3, 0, p);
        long pt = g.tensor(bf, tDims, tStr, true);
        g.reshape(p, pt);
        g.matmul(pt, tdo, tdv);
        long dp = g.tensor(f, sDims, sStr, true);
        g.matmul(tdo, tvt, dp);
        long t3 = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.SUB, dp, delta, t3);
        long t4 = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.MUL, t3, p, t4);
        long ds = g.tensor(f, sDims, sStr, true);
        g.pointwise(Cudnn.MUL, t4, scale, ds);
        long dst = g.tensor(bf, tDims, tStr, true);
        g.reshape(ds, dst);
        g.matmul(dst, tq, tdk);
        long kr = g.tensor(kType, dims(k), strides(k), true);
        g.reshape(tkt, kr);
        g.matmul(ds, kr, dqAccum);
        g.pointwise(Cudnn.IDENTITY, dqAccum, 0, tdq);
        Cudnn.Plan plan = g.plan();
        long[] tensors = {tq, tkt, tvt, to, tdo, stats, tdq, tdk, tdv, delta, dqAccum, scale, one, negInf};
        return new Built(plan, a.causal() ? tensors : java.util.Arrays.copyOf(tensors, tensors.length - 1));
    }
}
