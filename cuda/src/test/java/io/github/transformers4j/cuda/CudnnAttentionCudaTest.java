package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * cuDNN's fused attention ({@link CudnnAttention}, taken by the flash path under bf16 autocast) against the fp32
 * composite on the GPU (autocast off), both fed the same bf16 inputs and output gradient; every sequence length goes
 * to cuDNN here ({@code t4j.cuda.cudnnAttentionMinKeys=0}). Tolerance as {@link FlashAttentionCudaTest}'s: the fused
 * kernel rounds P and dS to bf16 before their products (relative 2^-9 per element); a wrong transpose, scale or mask
 * gives errors of order 1e-1 to 1.
 */
@Tag("cuda")
class CudnnAttentionCudaTest {
    static final Device GPU = Device.cuda(0);
    static final double TOL = 1e-2;

    @BeforeAll
    static void everyLengthToCudnn() {
        System.setProperty("t4j.cuda.flashAttention", "true");
        System.setProperty("t4j.cuda.flashCausal", "true");
        System.setProperty("t4j.cuda.cudnnAttention", "true");
        System.setProperty("t4j.cuda.cudnnAttentionMinKeys", "0");
        System.setProperty("t4j.cuda.cudnnVerbose", "true");
        GpuTests.device();
        Assumptions.assumeTrue(Cudnn.available(), Cudnn.unavailableReason());
        System.err.println("cuDNN " + Cudnn.versionString());
        Assumptions.assumeTrue(Cudnn.version() >= CudnnAttention.MIN_VERSION, "cuDNN " + Cudnn.versionString() + " is older than 9.16");
    }

    @AfterAll
    static void restore() {
        for (String p : new String[] {"t4j.cuda.flashAttention", "t4j.cuda.flashCausal", "t4j.cuda.cudnnAttention",
                "t4j.cuda.cudnnAttentionMinKeys", "t4j.cuda.cudnnVerbose"}) {
            System.clearProperty(p);
        }
    }

    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape).to(DType.BF16).to(DType.F32);
    }

    /** Output and input gradients (fp32, on the CPU) of one multiHeadAttention call and backward, and the cuDNN plans it ran. */
    private record Run(Tensor out, Tensor dq, Tensor dkv, long cudnnExecutions) {}

    /** bf16 operands under autocast (low = true: the fused path) or fp32 without (the composite). */
    private static Run mha(Tensor q, Tensor kv, int heads, Tensor g, boolean causal, double dropout, boolean low) {
        DType dt = low ? DType.BF16 : DType.F32;
        Tensor qg = q.to(dt).to(GPU).requiresGrad(true), kvg = kv == null ? null : kv.to(dt).to(GPU).requiresGrad(true);
        long before = CudnnAttention.executions();
        Tensor out;
        try (var ac = Autocast.enable(low ? DType.BF16 : null)) {
            out = NnOps.multiHeadAttention(qg, kvg, heads, null, null, 0.125, dropout, new Random4j(5), causal);
        }
        out.backward(g.to(dt).to(GPU));
        return new Run(f32(out), f32(qg.grad()), kvg == null ? null : f32(kvg.grad()), CudnnAttention.executions() - before);
    }

    private static Tensor f32(Tensor x) {
        return x.to(Device.CPU).to(DType.F32);
    }

    private static void compare(String what, Tensor q, Tensor kv, int heads, Tensor g, boolean causal) {
        Run c = mha(q, kv, heads, g, causal, 0, true), ref = mha(q, kv, heads, g, causal, 0, false);
        assertThat(c.cudnnExecutions()).as("%s: cuDNN plans run (forward, backward)", what).isEqualTo(2);
        assertThat(GpuTests.normRel(c.out(), ref.out())).as("%s: out", what).isLessThan(TOL);
        assertThat(GpuTests.normRel(c.dq(), ref.dq())).as("%s: d(q or packed qkv)", what).isLessThan(TOL);
        if (kv != null) assertThat(GpuTests.normRel(c.dkv(), ref.dkv())).as("%s: dkv", what).isLessThan(TOL);
    }

    @Test
    void selfAttentionForEveryHeadDimLengthAndCausal() {
        int b = 2, h = 3;
        for (int e : new int[] {32, 64, 128}) {
            for (int l : new int[] {65, 257, 300}) {
                for (boolean causal : new boolean[] {false, true}) {
                    Tensor qkv = randn(10 + l + e, b, l, 3 * h * e), g = randn(20 + l, b, l, h * e);
                    compare("E " + e + ", L " + l + (causal ? ", causal" : ""), qkv, null, h, g, causal);
                }
            }
        }
    }

    @Test
    void crossAttentionWithLqDifferentFromLk() {
        int b = 2, h = 2;
        for (int[] c : new int[][] {{100, 300, 64}, {257, 64, 64}, {7, 200, 128}, {1, 257, 64}, {130, 66, 32}}) {
            int lq = c[0], lk = c[1], e = c[2];
            Tensor q = randn(30 + lq, b, lq, h * e), kv = randn(31 + lk, b, lk, 2 * h * e), g = randn(32, b, lq, h * e);
            compare("Lq " + lq + ", Lk " + lk + ", E " + e, q, kv, h, g, false);
        }
    }

    @Test
    void theBenchmarkShapes() {
        for (int l : new int[] {257, 1024}) {
            Tensor qkv = randn(1, 16, l, 3 * 4 * 64), g = randn(2, 16, l, 4 * 64);
            compare("B 16, H 4, E 64, L " + l, qkv, null, 4, g, false);
            compare("B 16, H 4, E 64, L " + l + ", causal", qkv, null, 4, g, true);
        }
    }

    @Test
    void dropoutStaysWithTheOwnKernels() {
        // cuDNN's dropout draws from its own generator: calls with dropout keep the engine's Philox stream (own kernels)
        Tensor qkv = randn(3, 2, 257, 3 * 2 * 64), g = randn(4, 2, 257, 2 * 64);
        Run r = mha(qkv, null, 2, g, false, 0.1, true);
        assertThat(r.cudnnExecutions()).isZero();
    }

    @Test
    void backwardIsRepeatable() {
        // same inputs twice: the same bits, or the engine accumulates dq with atomics (said here, not hidden)
        Tensor qkv = randn(5, 4, 257, 3 * 4 * 64), g = randn(6, 4, 257, 4 * 64);
        Run a = mha(qkv, null, 4, g, false, 0, true), b = mha(qkv, null, 4, g, false, 0, true);
        assertThat(a.out().toFloatArray()).as("forward").isEqualTo(b.out().toFloatArray());
        float[] x = a.dq().toFloatArray(), y = b.dq().toFloatArray();
        int differ = 0;
        for (int i = 0; i < x.length; i++) if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) differ++;
        System.err.println("cuDNN attention backward, two runs: " + differ + " of " + x.length + " gradient elements differ");
        assertThat(GpuTests.normRel(a.dq(), b.dq())).isLessThan(1e-3);
    }
}
