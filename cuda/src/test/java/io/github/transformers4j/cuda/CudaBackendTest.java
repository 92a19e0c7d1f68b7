package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the op table does not reach: non-float dtypes, conversions, comparisons, masked rows, large shapes (the
 * chunked reduction paths), the matmul layouts cuBLASLt sees, bad indices, and the Adam step bit for bit.
 * Each compares the CUDA result with the CPU backend on the same inputs.
 */
@Tag("cuda")
class CudaBackendTest {
    static final Device GPU = Device.cuda(0);

    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape);
    }

    /** Applies f on the CPU and on the GPU (inputs moved) and compares within rtol/atol. */
    static void same(String what, Function<Tensor[], Tensor> f, double rtol, double atol, Tensor... cpuInputs) {
        GpuTests.device();
        Tensor cpu = f.apply(cpuInputs);
        Tensor[] g = new Tensor[cpuInputs.length];
        for (int i = 0; i < g.length; i++) g[i] = cpuInputs[i].to(GPU);
        Tensor gpu = f.apply(g);
        assertThat(gpu.device()).isEqualTo(GPU);
        assertThat(gpu.dtype()).as(what + " dtype").isEqualTo(cpu.dtype());
        assertThat(gpu.shape()).as(what + " shape").containsExactly(cpu.shape());
        double[] a = gpu.toDoubleArray(), b = cpu.toDoubleArray();
        for (int i = 0; i < b.length; i++) {
            boolean ok = a[i] == b[i] || Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]) || (Double.isNaN(a[i]) && Double.isNaN(b[i]));
            if (!ok) throw new AssertionError(what + ": element " + i + " cuda " + a[i] + " vs cpu " + b[i]);
        }
    }

    static void exact(String what, Function<Tensor[], Tensor> f, Tensor... cpuInputs) {
        same(what, f, 0, 0, cpuInputs);
    }

    @Test
    void comparisonsLogicAndWhere() {
        Tensor a = randn(1, 4, 5), b = randn(2, 5);
        exact("gt", x -> x[0].gt(x[1]), a, b);
        exact("le scalar", x -> x[0].le(0.1), a);
        exact("eq", x -> x[0].eq(x[0].mul(1.0)), a);
        exact("and/or/not", x -> x[0].gt(0.0).logicalAnd(x[1].lt(0.5)).logicalOr(x[0].lt(-1.0)).logicalNot(), a, b);
        exact("where (int64)", x -> Tensor.where(x[0].gt(0.0), x[0].mul(10).to(DType.I64), x[1].to(DType.I64)), a, b);
        exact("maskedFill -inf", x -> x[0].maskedFill(x[1].gt(0.0), Double.NEGATIVE_INFINITY), a, b);
    }

    @Test
    void integerArithmeticAndReductions() {
        Tensor i = Tensor.ofLongs(new long[] {5, -3, 7, 1L << 40, 0, 9}, 2, 3);
        exact("add int64", x -> x[0].add(x[0]), i);
        exact("mul int64 by 3 stays int64", x -> x[0].mul(3), i);
        exact("sum int64", x -> x[0].sum(1, false), i);
        exact("neg int64", x -> x[0].neg(), i);
        exact("int64 / int64 is float", x -> x[0].div(x[0].add(1)), i);
        exact("argmax", x -> x[0].argmax(1, false), randn(3, 6, 9));
        exact("argmin keepdim", x -> x[0].argmin(0, true), randn(4, 6, 9));
        exact("max of int32", x -> x[0].to(DType.I32).max(0, false), i);
    }

    @Test
    void conversionsBetweenEveryDtype() {
        Tensor x = randn(5, 3, 7).mul(50);
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                exact(from + " -> " + to, t -> t[0].to(from).to(to), x);
                exact(from + " -> " + to + " (transposed)", t -> t[0].to(from).t().to(to).contiguous(), x);
            }
        }
    }

    @Test
    void fillsAndStridedCopies() {
        for (DType t : DType.values()) {
            Tensor g = Tensor.full(3.75, t, GPU, 5, 3);
            assertThat(g.toDoubleArray()).as("fill " + t).containsExactly(Tensor.full(3.75, t, Device.CPU, 5, 3).toDoubleArray());
        }
        Tensor z = Tensor.full(1, DType.F32, GPU, 4, 6);
        try (var ignored = Grad.disabled()) {
            z.narrow(1, 2, 3).fill_(-2);   // non-contiguous fill
            z.narrow(0, 1, 2).copy_(randn(6, 2, 6)); // cross-device copy_ into a view
        }
        Tensor zc = Tensor.full(1, DType.F32, Device.CPU, 4, 6);
        try (var ignored = Grad.disabled()) {
            zc.narrow(1, 2, 3).fill_(-2);
            zc.narrow(0, 1, 2).copy_(randn(6, 2, 6));
        }
        assertThat(z.toFloatArray()).containsExactly(zc.toFloatArray());
        // 10 dims that never merge: the chunked strided path
        int[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2, 3};
        exact("permute of 10 dims", t -> t[0].permute(9, 8, 7, 6, 5, 4, 3, 2, 1, 0).contiguous(), randn(7, shape));
        exact("add over 10 dims with broadcast", t -> t[0].permute(9, 8, 7, 6, 5, 4, 3, 2, 1, 0).add(t[1]),
                randn(7, shape), randn(8, 1, 2, 1, 2, 2, 2, 2, 2, 1, 2));
    }

    @Test
    void largeReductionsTakeTheChunkedPaths() {
        same("sum over long rows", t -> t[0].sum(1, false), 1e-5, 1e-4, randn(9, 3, 100_000));
        same("sum over dim 0 of a tall matrix", t -> t[0].sum(0, false), 1e-5, 1e-4, randn(10, 50_000, 7));
        same("mean over dims 0, 2", t -> t[0].mean(new int[] {0, 2}, true), 1e-5, 1e-6, randn(11, 300, 5, 70));
        exact("max over dim 0 of a tall matrix", t -> t[0].max(0, false), randn(12, 20_000, 33));
        exact("argmax over dim 0 of a tall matrix", t -> t[0].argmax(0, false), randn(12, 20_000, 33));
        exact("min over everything", t -> t[0].min(), randn(13, 1_000_003));
        same("sum of everything", t -> t[0].sum(), 1e-6, 1e-3, randn(14, 4_000_000));
        exact("argmax with ties takes the first", t -> t[0].argmax(1, false), Tensor.full(2, DType.F32, Device.CPU, 4, 1000));
    }

    @Test
    void softmaxOfFullyMaskedRowsIsZeroNotNaN() {
        Tensor mask = Tensor.ofBooleans(new boolean[] {false, false, true, true, true, true, true, true}, 2, 4);
        Function<Tensor[], Tensor> masked = t -> t[0].maskedFill(t[1].expand(3, 2, 4).reshape(6, 4), Double.NEGATIVE_INFINITY);
        same("softmax with masked rows", t -> masked.apply(t).softmax(-1), 1e-6, 1e-7, randn(15, 6, 4), mask);
        same("logSoftmax with masked rows", t -> masked.apply(t).logSoftmax(-1), 1e-6, 1e-7, randn(15, 6, 4), mask);
        Tensor sm = masked.apply(new Tensor[] {randn(15, 6, 4).to(GPU), mask.to(GPU)}).softmax(-1);
        float[] row = sm.narrow(0, 1, 1).toFloatArray();
        assertThat(row).containsOnly(0f);
        // gradient through the masked rows: zeros, not NaN
        Tensor x = randn(16, 6, 4).to(GPU).requiresGrad(true);
        masked.apply(new Tensor[] {x, mask.to(GPU)}).softmax(-1).mul(randn(17, 6, 4).to(GPU)).sum().backward();
        for (float v : x.grad().toFloatArray()) assertThat(v).isNotNaN();
    }

    @Test
    void wideSoftmaxAndLayerNormMatchTheCpu() {
        same("softmax d=5000", t -> t[0].softmax(-1), 1e-5, 1e-9, randn(18, 7, 5000).mul(3));
        same("logSoftmax d=50000", t -> t[0].logSoftmax(-1), 1e-5, 1e-5, randn(19, 3, 50_000));
        Function<Tensor[], Tensor> ln = t -> NnOps.layerNorm(t[0], 1, t[1], t[2], 1e-5);
        Tensor x = randn(20, 4096, 768), w = randn(21, 768), b = randn(22, 768);
        same("layerNorm 4096x768", ln, 1e-4, 1e-5, x, w, b);
        same("layerNorm without affine", t -> NnOps.layerNorm(t[0], 2, null, null, 1e-5), 1e-4, 1e-5, randn(23, 5, 3, 40));
        same("layerNorm d=2000 (a block per row; up to 1024 a warp per row)", ln, 1e-4, 1e-5, randn(25, 3, 2000), randn(26, 2000),
                randn(27, 2000));
        // backward: gx, gw, gb (gw/gb summed over 4096 rows in chunks)
        Tensor gyc = randn(24, 4096, 768);
        List<Tensor> cpu = lnGrads(x, w, b, gyc), gpu = lnGrads(x.to(GPU), w.to(GPU), b.to(GPU), gyc.to(GPU));
        for (int i = 0; i < 3; i++) {
            double[] g = gpu.get(i).toDoubleArray(), c = cpu.get(i).toDoubleArray();
            for (int k = 0; k < c.length; k++) {
                assertThat(Math.abs(g[k] - c[k])).as("layerNorm grad %d element %d", i, k).isLessThanOrEqualTo(1e-3 + 1e-4 * Math.abs(c[k]));
            }
        }
    }

    /** The warp kernels hold a row in registers, sized for rows of 256, 512 and 1024: each size, full and partial. */
    @Test
    void layerNormWarpKernelsOfEveryRowSizeMatchTheCpu() {
        for (int d : new int[] {1, 40, 256, 300, 512, 700, 1024}) {
            Tensor x = randn(40 + d, 37, d), w = randn(41 + d, d), b = randn(42 + d, d), gy = randn(43 + d, 37, d);
            same("layerNorm d=" + d, t -> NnOps.layerNorm(t[0], 1, t[1], t[2], 1e-5), 1e-4, 1e-5, x, w, b);
            List<Tensor> cpu = lnGrads(x, w, b, gy), gpu = lnGrads(x.to(GPU), w.to(GPU), b.to(GPU), gy.to(GPU));
            for (int i = 0; i < 3; i++) {
                double[] g = gpu.get(i).toDoubleArray(), c = cpu.get(i).toDoubleArray();
                for (int k = 0; k < c.length; k++) {
                    assertThat(Math.abs(g[k] - c[k])).as("d=%d: layerNorm grad %d element %d", d, i, k).isLessThanOrEqualTo(1e-3 + 1e-4 * Math.abs(c[k]));
                }
            }
        }
    }

    private static List<Tensor> lnGrads(Tensor x, Tensor w, Tensor b, Tensor gy) {
        Tensor xs = x.detach().requiresGrad(true), ws = w.detach().requiresGrad(true), bs = b.detach().requiresGrad(true);
        NnOps.layerNorm(xs, 1, ws, bs, 1e-5).backward(gy);
        return List.of(xs.grad(), ws.grad(), bs.grad());
    }

    @Test
    void matmulLayoutsMatchTheCpu() {
        double rt = 1e-4, at = 1e-4;
        same("[B,T,C] @ [C,D] (one tall product)", t -> t[0].matmul(t[1]), rt, at, randn(30, 4, 33, 64), randn(31, 64, 48));
        same("[B,T,C] @ [D,C]^T", t -> t[0].matmul(t[1].t()), rt, at, randn(32, 4, 33, 64), randn(33, 48, 64));
        same("[C,D]^T @ [B,C,T]: broadcast first operand", t -> t[1].t().matmul(t[0]), rt, at, randn(34, 3, 64, 20), randn(35, 64, 16));
        same("[O,K] @ [N,K,L] (conv weights)", t -> t[0].matmul(t[1]), rt, at, randn(36, 8, 27), randn(37, 5, 27, 49));
        same("batched q @ k^T", t -> t[0].matmul(t[1].mT()), rt, at, randn(38, 2, 4, 17, 16), randn(39, 2, 4, 19, 16));
        same("vector @ matrix", t -> t[0].matmul(t[1]), rt, at, randn(40, 64), randn(41, 64, 10));
        same("permuted operand", t -> t[0].permute(1, 0, 2).matmul(t[1]), rt, at, randn(42, 6, 5, 8), randn(43, 8, 3));
        same("F64", t -> t[0].to(DType.F64).matmul(t[1].to(DType.F64)), 1e-12, 1e-12, randn(44, 3, 70, 50), randn(45, 3, 50, 30));
        // bf16 operands, fp32 accumulation: close to the fp32 product within bf16 rounding
        Tensor a = randn(46, 128, 256), b = randn(47, 256, 64);
        double[] want = a.matmul(b).toDoubleArray();
        double[] got = a.to(DType.BF16).to(GPU).matmul(b.to(DType.BF16).to(GPU)).toDoubleArray();
        assertThat(GpuTests.relativeError(got, want)).as("bf16 matmul relative error").isLessThan(1e-2);
    }

    @Test
    void tf32IsOptIn() {
        Tensor a = randn(50, 512, 512), b = randn(51, 512, 512);
        double[] want = a.to(DType.F64).matmul(b.to(DType.F64)).toDoubleArray();
        CudaBackend backend = (CudaBackend) Backends.of(GPU);
        boolean before = backend.tf32();
        try {
            backend.allowTf32(false);
            double pure = GpuTests.relativeError(a.to(GPU).matmul(b.to(GPU)).toDoubleArray(), want);
            backend.allowTf32(true);
            double tf32 = GpuTests.relativeError(a.to(GPU).matmul(b.to(GPU)).toDoubleArray(), want);
            System.out.printf("matmul 512^3 relative error: fp32 %.2e, tf32 %.2e%n", pure, tf32);
            assertThat(pure).isLessThan(1e-6);
            assertThat(tf32).isGreaterThan(1e-5).isLessThan(3e-3);
        } finally {
            backend.allowTf32(before);
        }
    }

    @Test
    void badIndicesAreReportedAtTheNextSynchronization() {
        Tensor x = randn(60, 4, 3).to(GPU);
        Tensor idx = Tensor.ofLongs(new long[] {0, 7, 1}, 3).to(GPU);
        assertThatThrownBy(() -> x.indexSelect(0, idx).toFloatArray())
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("indexSelect: index 7 out of range for dimension of size 4");
        assertThatThrownBy(() -> x.gather(1, Tensor.ofLongs(new long[] {0, 1, 2, -1}, 4, 1).to(GPU)).toFloatArray())
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("gather: index -1 out of range for dimension of size 3");
        // the error is cleared: the backend keeps working
        Tensor ok = x.indexSelect(0, Tensor.ofLongs(new long[] {3, 3}, 2).to(GPU));
        assertThat(ok.toFloatArray()).containsExactly(x.narrow(0, 3, 1).expand(2, 3).contiguous().toFloatArray());
    }

    @Test
    void embeddingBackwardWithRepeatedIndicesMatchesTheCpu() {
        long[] ids = new long[4096];
        for (int i = 0; i < ids.length; i++) ids[i] = Integer.toUnsignedLong(Random4j.bits(61, 0, i)) % 50;
        Tensor w = randn(62, 50, 64), gy = randn(63, 4096, 64);
        Tensor idx = Tensor.ofLongs(ids, 4096);
        Tensor wc = w.detach().requiresGrad(true), wg = w.to(GPU).requiresGrad(true);
        NnOps.embedding(wc, idx, 3).backward(gy);
        NnOps.embedding(wg, idx.to(GPU), 3).backward(gy.to(GPU));
        double[] c = wc.grad().toDoubleArray(), g = wg.grad().toDoubleArray();
        for (int i = 0; i < c.length; i++) assertThat(Math.abs(g[i] - c[i])).isLessThanOrEqualTo(1e-4 + 1e-5 * Math.abs(c[i]));
    }

    @Test
    void gatherAndScatterAlongTheMiddleDim() {
        long[] ids = new long[2 * 5 * 4];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 7L) % 6;
        Tensor idx = Tensor.ofLongs(ids, 2, 5, 4);
        exact("gather dim 1", t -> t[0].gather(1, t[1]), randn(70, 2, 6, 4), idx);
        same("scatterAdd dim 1", t -> t[0].scatterAdd(1, t[1], t[2]), 1e-6, 1e-6, randn(71, 2, 6, 4), idx, randn(72, 2, 5, 4));
        exact("gather of a transposed source", t -> t[0].transpose(0, 2).gather(1, t[1]), randn(73, 4, 6, 2), idx);
    }

    @Test
    void adamStepGivesTheCpuBitsForBitsF32AndF64() {
        for (DType t : List.of(DType.F32, DType.F64)) {
            for (boolean decoupled : new boolean[] {true, false}) {
                Tensor[] cpu = {randn(80, 1000).to(t), Tensor.zeros(t, 1000), Tensor.zeros(t, 1000)};
                Tensor[] gpu = {cpu[0].to(GPU), cpu[1].to(GPU), cpu[2].to(GPU)};
                for (int step = 1; step <= 3; step++) {
                    Tensor g = randn(80 + step, 1000).mul(step == 2 ? 1e-3 : 1).to(t);
                    NnOps.adamStep(cpu[0], g, cpu[1], cpu[2], 1e-2, 0.9, 0.999, 1e-8, 0.1, step, decoupled);
                    NnOps.adamStep(gpu[0], g.to(GPU), gpu[1], gpu[2], 1e-2, 0.9, 0.999, 1e-8, 0.1, step, decoupled);
                }
                for (int k = 0; k < 3; k++) {
                    assertThat(gpu[k].toDoubleArray()).as("adam %s decoupled=%s tensor %d", t, decoupled, k)
                            .containsExactly(cpu[k].toDoubleArray());
                }
            }
        }
    }

    @Test
    void bf16ElementwiseAndNormOpsRunOnTheGpu() {
        Tensor x = randn(90, 16, 64);
        same("bf16 gelu", t -> t[0].to(DType.BF16).gelu(), 1e-2, 1e-2, x);
        same("bf16 add broadcast", t -> t[0].to(DType.BF16).add(t[0].to(DType.BF16).narrow(0, 0, 1)), 0, 0, x);
        same("bf16 softmax", t -> t[0].to(DType.BF16).softmax(-1), 1e-2, 1e-3, x);
        same("bf16 layerNorm", t -> NnOps.layerNorm(t[0].to(DType.BF16), 1, null, null, 1e-5), 2e-2, 2e-2, x);
    }
}
