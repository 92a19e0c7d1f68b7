package io.github.transformers4j.tensor.cpu;

import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.ReduceOp;
import io.github.transformers4j.tensor.Storage;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.UnaryOp;
import java.lang.foreign.MemorySegment;

/** The CPU backend: Vector API kernels, multithreaded with {@link Parallel}. Kernels live in the Cpu* classes. */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public void emptyCache() {
        CpuStorage.Pool.trim();
    }

    @Override
    public Storage allocate(DType dtype, long numel) {
        return new CpuStorage(dtype, numel);
    }

    @Override
    public void copyFromHost(MemorySegment src, Tensor dst) {
        long bytes = dst.numel() * dst.dtype().byteSize();
        MemorySegment.copy(src, 0, Access.seg(dst), dst.storageOffset() * dst.dtype().byteSize(), bytes);
    }

    @Override
    public void copyToHost(Tensor src, MemorySegment dst) {
        long bytes = src.numel() * src.dtype().byteSize();
        MemorySegment.copy(Access.seg(src), src.storageOffset() * src.dtype().byteSize(), dst, 0, bytes);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CpuElementwise.copy(src, dst);
    }

    @Override
    public void fill(Tensor dst, double value) {
        CpuElementwise.fill(dst, value);
    }

    @Override
    public void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out) {
        CpuElementwise.unary(op, p0, p1, x, out);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        CpuElementwise.binary(op, a, b, out);
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        CpuElementwise.where(cond, a, b, out);
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, long outer, long n, long inner, Tensor values, Tensor indices) {
        CpuReduce.reduce(op, x, outer, n, inner, values, indices);
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        if (a.dtype() == DType.BF16 || a.dtype() == DType.F16) {
            halfMatmul(a, b, out, accumulate);
            return;
        }
        int[] sa = a.shape(), sb = b.shape();
        long[] ta = a.stride(), tb = b.stride();
        int batch = sa[0], m = sa[1], k = sa[2], n = sb[2];
        long ldc = n, cBatch = (long) m * n;
        // Gemm needs one unit stride per operand. A dim of size 1 never moves the offset, so its stride may be set to 1.
        long aRs = ta[1], aCs = ta[2], bRs = tb[1], bCs = tb[2];
        if (aRs != 1 && aCs != 1) {
            if (m == 1) aRs = 1;
            else if (k == 1) aCs = 1;
            else throw new IllegalStateException("matmul: left operand has no unit stride " + java.util.Arrays.toString(ta));
        }
        if (bRs != 1 && bCs != 1) {
            if (k == 1) bRs = 1;
            else if (n == 1) bCs = 1;
            else throw new IllegalStateException("matmul: right operand has no unit stride " + java.util.Arrays.toString(tb));
        }
        if (a.dtype() == DType.F32) {
            Gemm.sgemm(batch, m, n, k, Access.seg(a), a.storageOffset(), ta[0], aRs, aCs,
                    Access.seg(b), b.storageOffset(), tb[0], bRs, bCs, Access.seg(out), out.storageOffset(), cBatch, ldc, accumulate);
        } else if (a.dtype() == DType.F64) {
            Gemm.dgemm(batch, m, n, k, Access.seg(a), a.storageOffset(), ta[0], aRs, aCs,
                    Access.seg(b), b.storageOffset(), tb[0], bRs, bCs, Access.seg(out), out.storageOffset(), cBatch, ldc, accumulate);
        } else {
            throw new IllegalArgumentException("matmul on the CPU supports F32 and F64, got " + a.dtype() + "; convert with to(DType.F32)");
        }
    }

    /** -Dt4j.cpu.noFusedLinear=true: linear as matmul + add (the A/B of BENCHMARKS.md; the same bits either way). */
    @Override
    public boolean hasFusedLinear(DType dtype) {
        return dtype == DType.F32 && !NO_FUSED_LINEAR;
    }

    private static final boolean NO_FUSED_LINEAR = Boolean.getBoolean("t4j.cpu.noFusedLinear");

    /**
     * Attention as one op ({@code NnOps.multiHeadAttention}: heads repacked once, the scale folded into the score
     * product, one autograd node) rather than composed from views, products, a scale and softmax: 66 -> 26 strided
     * copies and 25 -> 17 adds a vit-mini-p4 step, about 9% of it (BENCHMARKS.md). Not the same bits as the composed
     * path (the scale is applied inside the product). -Dt4j.cpu.noFusedAttention=true composes it.
     */
    @Override
    public boolean prefersFusedAttention() {
        return !NO_FUSED_ATTENTION;
    }

    private static final boolean NO_FUSED_ATTENTION = Boolean.getBoolean("t4j.cpu.noFusedAttention");

    /**
     * fp32 attention without dropout in one pass per head ({@link CpuAttention}: no score tensor, no repacked heads),
     * opt-in with -Dt4j.cpu.flashAttention=true: on vit-mini-p4 (50 tokens, heads of 32) it is no faster than the
     * composite (BENCHMARKS.md, session 13); it keeps no (B, H, L, L) tensors.
     */
    @Override
    public <K> java.util.Optional<K> kernel(io.github.transformers4j.tensor.FusedOp<K> op, DType dtype) {
        if (op.equals(io.github.transformers4j.tensor.NnOps.FLASH_ATTENTION) && dtype == DType.F32 && !NO_FUSED_ATTENTION
                && Boolean.getBoolean("t4j.cpu.flashAttention")) {
            return java.util.Optional.of(op.type().cast(CpuAttention.INSTANCE));
        }
        return java.util.Optional.empty();
    }

    /**
     * out [M, N] = x [M, K] @ w [N, K]^T + bias: one product with the bias added as each element is finished (no pass
     * over out for it); the same bits as the product followed by a broadcast add.
     */
    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        int m = x.size(0), k = x.size(1), n = w.size(0);
        if (bias == null) {
            Gemm.sgemm(1, m, n, k, Access.seg(x), x.storageOffset(), 0, k, 1, Access.seg(w), w.storageOffset(), 0, 1, k,
                    Access.seg(out), out.storageOffset(), 0, n, false);
        } else {
            Gemm.sgemmBias(m, n, k, Access.seg(x), x.storageOffset(), k, 1, Access.seg(w), w.storageOffset(), 1, k,
                    Access.seg(out), out.storageOffset(), n, Access.seg(bias), bias.storageOffset());
        }
    }

    /**
     * gw [N, K] = g [M, N]^T @ x [M, K], written in w's layout (no transposed copy), and gb [N] = g's column sums
     * by the reduction a broadcast bias's gradient takes; the same bits as the unfused backward.
     */
    @Override
    public void linearWeightGrad(Tensor g, Tensor x, Tensor gw, Tensor gb) {
        int m = g.size(0), n = g.size(1), k = x.size(1);
        if (gw != null) {
            Gemm.sgemm(1, n, k, m, Access.seg(g), g.storageOffset(), 0, 1, n, Access.seg(x), x.storageOffset(), 0, k, 1,
                    Access.seg(gw), gw.storageOffset(), 0, k, false);
        }
        if (gb != null) reduce(ReduceOp.SUM, g, 1, m, n, gb, null);
    }

    /** 16-bit operands, fp32 accumulation (as cuBLASLt's fp32 compute type): exact fp32 copies multiplied, the result rounded once. */
    private void halfMatmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        Tensor a32 = Tensor.full(0, DType.F32, Device.CPU, a.shape()), b32 = Tensor.full(0, DType.F32, Device.CPU, b.shape());
        Tensor out32 = Tensor.full(0, DType.F32, Device.CPU, out.shape());
        try {
            copy(a, a32);
            copy(b, b32);
            if (accumulate) copy(out, out32);
            matmul(a32, b32, out32, accumulate);
            copy(out32, out);
        } finally {
            a32.release();
            b32.release();
            out32.release();
        }
    }

    @Override
    public void softmax(Tensor x, Tensor out, boolean log) {
        CpuNorm.softmax(x, out, log);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log) {
        CpuNorm.softmaxBackward(y, gy, gx, log);
    }

    @Override
    public void layerNorm(Tensor x, Tensor w, Tensor b, double eps, Tensor y, Tensor mean, Tensor rstd) {
        CpuNorm.layerNorm(x, w, b, eps, y, mean, rstd);
    }

    @Override
    public void layerNormBackward(Tensor gy, Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gx, Tensor gw, Tensor gb) {
        CpuNorm.layerNormBackward(gy, x, w, mean, rstd, gx, gw, gb);
    }

    @Override
    public void indexSelect(Tensor src, long outer, long n, long inner, Tensor index, Tensor out) {
        CpuIndex.indexSelect(src, outer, n, inner, index, out);
    }

    @Override
    public void indexAdd(Tensor dst, long outer, long n, long inner, Tensor index, Tensor src) {
        CpuIndex.indexAdd(dst, outer, n, inner, index, src);
    }

    @Override
    public void gather(Tensor src, int dim, Tensor index, Tensor out) {
        CpuIndex.gather(src, dim, index, out);
    }

    @Override
    public void scatterAdd(Tensor dst, int dim, Tensor index, Tensor src) {
        CpuIndex.scatterAdd(dst, dim, index, src);
    }

    @Override
    public void random(Tensor out, Distribution kind, long seed, long offset, double a, double b) {
        CpuMisc.random(out, kind, seed, offset, a, b);
    }

    @Override
    public void im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor cols) {
        CpuMisc.im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, cols);
    }

    @Override
    public void col2im(Tensor cols, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor x) {
        CpuMisc.col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, x);
    }

    @Override
    public void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step, boolean decoupled) {
        CpuMisc.adamStep(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled);
    }
}
