package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The fused ops on the GPU against the same calls on the CPU (which composes them from plain ops): linear with the
 * cuBLASLt bias and bias-gradient epilogues, the scaled product, fused multi-head attention, and the asynchronous
 * upload ring.
 */
@Tag("cuda")
class FusedOpsCudaTest {
    static final Device GPU = Device.cuda(0);

    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape);
    }

    /** max |a - b| / max(1, max |b|): float32 results against float32 CPU results. */
    private static double relErr(Tensor gpu, Tensor cpu) {
        assertThat(gpu.shape()).isEqualTo(cpu.shape());
        float[] x = gpu.toFloatArray(), y = cpu.toFloatArray();
        double worst = 0, scale = 1;
        for (float v : y) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < x.length; i++) {
            assertThat(Float.isFinite(x[i])).as("element %d finite", i).isTrue();
            worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        return worst / scale;
    }

    @Test
    void fusedLinearMatchesTheCpuForwardAndAllGradients() {
        assertThat(Backends.of(GPU).hasFusedLinear(DType.F32)).isTrue();
        for (int[] s : new int[][] {{3, 7, 33, 20}, {2, 65, 256, 768}, {1, 1, 5, 3}}) {
            int b = s[0], l = s[1], in = s[2], out = s[3];
            Tensor x = randn(1, b, l, in), w = randn(2, out, in).mul(0.1), bias = randn(3, out);
            Tensor xc = x.clone().requiresGrad(true), wc = w.clone().requiresGrad(true), bc = bias.clone().requiresGrad(true);
            Tensor xg = x.to(GPU).requiresGrad(true), wg = w.to(GPU).requiresGrad(true), bg = bias.to(GPU).requiresGrad(true);
            Tensor yc = NnOps.linear(xc, wc, bc), yg = NnOps.linear(xg, wg, bg);
            assertThat(relErr(yg, yc)).as("forward %s", java.util.Arrays.toString(s)).isLessThan(1e-5);
            Tensor g = randn(4, b, l, out);
            yc.backward(g);
            yg.backward(g.to(GPU));
            assertThat(relErr(xg.grad(), xc.grad())).as("dx").isLessThan(1e-5);
            assertThat(relErr(wg.grad(), wc.grad())).as("dw").isLessThan(1e-5);
            assertThat(relErr(bg.grad(), bc.grad())).as("db").isLessThan(1e-5);
        }
    }

    @Test
    void fusedLinearWithoutBiasAndWithAFrozenWeight() {
        Tensor x = randn(5, 4, 9), w = randn(6, 6, 9);
        Tensor xc = x.clone().requiresGrad(true), xg = x.to(GPU).requiresGrad(true);
        Tensor yc = NnOps.linear(xc, w, null), yg = NnOps.linear(xg, w.to(GPU), null);
        assertThat(relErr(yg, yc)).isLessThan(1e-5);
        yc.sum().backward();
        yg.sum().backward();
        assertThat(relErr(xg.grad(), xc.grad())).isLessThan(1e-5);
    }

    @Test
    void scaledProductFoldsAlphaIntoTheProduct() {
        Tensor a = randn(7, 3, 5, 8), b = randn(8, 3, 8, 4);
        Tensor expect = a.matmul(b).mul(0.125);
        try (var s = Memory.scope()) {
            Tensor out = Tensor.full(0, DType.F32, GPU, 3, 5, 4);
            Backends.of(GPU).matmul(a.to(GPU), b.to(GPU), out, 0.125);
            assertThat(relErr(out, expect)).isLessThan(1e-6);
        }
    }

    @Test
    void fusedMultiHeadAttentionMatchesTheCpuWithMasksAndGradients() {
        int b = 3, l = 65, h = 4, e = 16;
        Tensor qkv = randn(9, b, l, 3 * h * e);
        boolean[] pad = new boolean[b * l];
        for (int j = 60; j < l; j++) pad[2 * l + j] = true;
        Tensor kpm = Tensor.ofBooleans(pad, b, l);
        Tensor causal = Tensor.arange(l).view(1, l).gt(Tensor.arange(l).view(l, 1));
        Tensor maskCpu = kpm.view(b, 1, 1, l).logicalOr(causal);
        Tensor qc = qkv.clone().requiresGrad(true), qg = qkv.to(GPU).requiresGrad(true);
        Tensor oc = NnOps.multiHeadAttention(qc, null, h, maskCpu, null, 0.25, 0, null);
        Tensor og = NnOps.multiHeadAttention(qg, null, h, maskCpu.to(GPU), null, 0.25, 0, null);
        assertThat(relErr(og, oc)).isLessThan(1e-5);
        Tensor g = randn(10, b, l, h * e);
        oc.backward(g);
        og.backward(g.to(GPU));
        assertThat(relErr(qg.grad(), qc.grad())).isLessThan(1e-5);

        // cross-attention with dropout: the GPU draws the same random numbers as the CPU
        Tensor q = randn(11, b, 7, h * e), kv = randn(12, b, l, 2 * h * e);
        Tensor cc = NnOps.multiHeadAttention(q, kv, h, null, null, 0.25, 0.2, new Random4j(5));
        Tensor cg = NnOps.multiHeadAttention(q.to(GPU), kv.to(GPU), h, null, null, 0.25, 0.2, new Random4j(5));
        assertThat(relErr(cg, cc)).isLessThan(1e-5);
    }

    @Test
    void fusedFourDimensionalAttentionMatchesTheCpu() {
        Tensor q = randn(13, 2, 3, 40, 8), k = randn(14, 2, 3, 50, 8), v = randn(15, 2, 3, 50, 6);
        Tensor[] c = {q.clone().requiresGrad(true), k.clone().requiresGrad(true), v.clone().requiresGrad(true)};
        Tensor[] g = {q.to(GPU).requiresGrad(true), k.to(GPU).requiresGrad(true), v.to(GPU).requiresGrad(true)};
        Tensor oc = NnOps.scaledDotProductAttention(c[0], c[1], c[2], null, null, 0.3, 0, null);
        Tensor og = NnOps.scaledDotProductAttention(g[0], g[1], g[2], null, null, 0.3, 0, null);
        assertThat(relErr(og, oc)).isLessThan(1e-5);
        Tensor w = randn(16, 2, 3, 40, 6);
        oc.backward(w);
        og.backward(w.to(GPU));
        for (int i = 0; i < 3; i++) assertThat(relErr(g[i].grad(), c[i].grad())).as("grad %d", i).isLessThan(1e-5);
    }

    @Test
    void fusedDropoutKeepsTheCpuElementsAndScalesGradientsAlike() {
        assertThat(Backends.of(GPU).hasFusedDropout(DType.F32)).isTrue();
        Tensor x = randn(20, 1001, 33);
        Tensor xc = x.clone().requiresGrad(true), xg = x.to(GPU).requiresGrad(true);
        Tensor yc = NnOps.dropout(xc, 0.3, true, new Random4j(77)), yg = NnOps.dropout(xg, 0.3, true, new Random4j(77));
        float[] a = yc.toFloatArray(), b = yg.toFloatArray();
        int zeros = 0;
        for (int i = 0; i < a.length; i++) {
            assertThat(b[i]).as("element %d", i).isEqualTo(a[i]);
            if (a[i] == 0) zeros++;
        }
        assertThat(zeros / (double) a.length).isBetween(0.28, 0.32);
        Tensor g = randn(21, 1001, 33);
        yc.backward(g);
        yg.backward(g.to(GPU));
        assertThat(xg.grad().toFloatArray()).isEqualTo(xc.grad().toFloatArray());
    }

    @Test
    void maskedSoftmaxEqualsFillingThenSoftmax() {
        int b = 2, h = 3, lq = 5, lk = 70;
        Tensor s = randn(22, b * h, lq, lk);
        boolean[] m = new boolean[b * lk];
        for (int j = 0; j < lk; j++) m[j] = j % 7 == 3;
        for (int j = 0; j < lk; j++) m[lk + j] = true; // the second batch entry sees nothing: zeros
        Tensor mask = Tensor.ofBooleans(m, b, 1, 1, lk);
        Tensor expect = s.reshape(b, h, lq, lk).maskedFill(mask, Double.NEGATIVE_INFINITY).softmax(-1).reshape(b * h, lq, lk);
        try (var sc = Memory.scope()) {
            Tensor out = Tensor.full(0, DType.F32, GPU, b * h, lq, lk);
            Backends.of(GPU).maskedSoftmax(s.to(GPU), mask.to(GPU).expand(b, h, lq, lk), out);
            assertThat(relErr(out, expect)).isLessThan(1e-6);
        }
    }

    @Test
    void vectorisedStridedCopiesMatchTheCpu() {
        Tensor x = randn(30, 3, 5, 3, 4, 8);                   // (B, L, 3, H, E)
        Tensor[] views = {x.permute(2, 0, 3, 1, 4), x.permute(0, 3, 1, 2, 4), x.narrow(4, 4, 4).permute(1, 0, 2, 3, 4),
                x.expand(2, 3, 5, 3, 4, 8).permute(1, 0, 2, 3, 4, 5)};
        Tensor xg = x.to(GPU);
        Tensor[] onGpu = {xg.permute(2, 0, 3, 1, 4), xg.permute(0, 3, 1, 2, 4), xg.narrow(4, 4, 4).permute(1, 0, 2, 3, 4),
                xg.expand(2, 3, 5, 3, 4, 8).permute(1, 0, 2, 3, 4, 5)};
        for (int i = 0; i < views.length; i++) {
            assertThat(onGpu[i].contiguous().toFloatArray()).as("view %d", i).isEqualTo(views[i].contiguous().toFloatArray());
        }
    }

    @Test
    void uploadsDoNotWaitAndArriveIntactPastTheStagingRing() {
        // more bytes than the ring holds, in many small and a few large uploads: every one must arrive as sent
        int n = 60;
        Tensor[] host = new Tensor[n], dev = new Tensor[n];
        for (int i = 0; i < n; i++) {
            int len = i % 10 == 9 ? 3_000_000 : 1000 + 37 * i; // 12 MB every tenth upload
            host[i] = randn(100 + i, len);
            dev[i] = host[i].to(GPU);
        }
        for (int i = 0; i < n; i++) assertThat(dev[i].toFloatArray()).as("upload %d", i).isEqualTo(host[i].toFloatArray());
    }
}
