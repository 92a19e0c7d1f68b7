package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The op-layer half of flash attention on the CPU: {@link NnOps#flashMultiHeadAttention} and
 * {@link NnOps#flashScaledDotProductAttention} hand a kernel (B, H, L, E) views into the packed projections, a broadcast
 * mask, the dropout stream and packed gradient views. A Java stand-in kernel that computes the maths through exactly
 * those views must reproduce the composite ({@link NnOps#multiHeadAttention} without autocast), forward and gradients,
 * with the same dropout keep decisions. Also: the CPU offers no flash kernel, so autocast leaves its attention alone.
 */
class FlashAttentionOpTest {

    /** The flash kernel's contract in plain tensor ops on the views it is given (fp32, no tiling). */
    static final class ViewKernel implements NnOps.FlashAttentionKernel {
        int forwards, backwards;

        @Override
        public boolean supports(int headDim) {
            return true;
        }

        @Override
        public boolean supportsCausal() {
            return true;
        }

        /** {P, the dropout factors (1 / (1 - p) where kept, else 0; null without dropout)}, (B, H, Lq, Lk). */
        private static Tensor[] weights(NnOps.FlashAttention a) {
            Tensor s = a.q().matmul(a.k().mT()).mul(a.scale());
            if (a.masked() != null) s = s.maskedFill(a.masked(), Double.NEGATIVE_INFINITY);
            if (a.causal()) s = s.maskedFill(NnOps.causalMask(s.size(2), s.size(3), s.device()), Double.NEGATIVE_INFINITY);
            Tensor p = s.softmax(-1);
            if (a.dropoutP() == 0) return new Tensor[] {p, null};
            int n = (int) p.numel();
            long threshold = (long) Math.ceil(a.dropoutP() * 16777216.0); // attention.cu's rule: keep when (bits >> 8) >= this
            float scale = (float) (1.0 / (1.0 - a.dropoutP()));
            float[] z = new float[n];
            for (int i = 0; i < n; i++) z[i] = (Random4j.bits(a.seed(), a.offset(), i) >>> 8) >= threshold ? scale : 0;
            return new Tensor[] {p, Tensor.of(z, p.shape())};
        }

        @Override
        public void forward(NnOps.FlashAttention a, Tensor out, Tensor lse) {
            forwards++;
            assertThat(a.q().stride(3)).isEqualTo(1);
            Tensor[] w = weights(a);
            out.copy_((w[1] == null ? w[0] : w[0].mul(w[1])).matmul(a.v()));
            lse.fill_(0);
        }

        @Override
        public void backward(NnOps.FlashAttention a, Tensor out, Tensor lse, Tensor dout, Tensor delta, Tensor dq, Tensor dk,
                Tensor dv) {
            backwards++;
            Tensor[] w = weights(a);
            Tensor p = w[0], z = w[1], pd = z == null ? p : p.mul(z);
            dv.copy_(pd.mT().matmul(dout));
            Tensor dp = dout.matmul(a.v().mT());
            if (z != null) dp = dp.mul(z);
            Tensor ds = p.mul(dp.sub(p.mul(dp).sum(-1, true)));
            dq.copy_(ds.matmul(a.k()).mul(a.scale()));
            dk.copy_(ds.mT().matmul(a.q()).mul(a.scale()));
        }
    }

    private static double maxDiff(Tensor a, Tensor b) {
        assertThat(a.shape()).isEqualTo(b.shape());
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            assertThat(Float.isFinite(x[i])).as("element %d finite", i).isTrue();
            worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        return worst;
    }

    private static Tensor leaf(Tensor t) {
        return t.detach().clone().requiresGrad(true);
    }

    @Test
    void packedSelfAttentionThroughTheViewsMatchesTheComposite() {
        int b = 3, l = 6, h = 2, e = 4;
        Tensor qkv = Tensor.randn(new Random4j(1), b, l, 3 * h * e);
        boolean[] pad = new boolean[b * l];
        pad[l - 1] = pad[l - 2] = true;                 // batch 0: two padded keys
        for (int j = 0; j < l; j++) pad[l + j] = true;  // batch 1: every key padded -> zeros
        Tensor mask = Tensor.ofBooleans(pad, b, l).view(b, 1, 1, l);
        Tensor g = Tensor.randn(new Random4j(2), b, l, h * e);
        for (double p : new double[] {0, 0.3}) {
            Random4j r1 = new Random4j(7), r2 = new Random4j(7);
            Tensor x1 = leaf(qkv), x2 = leaf(qkv);
            ViewKernel k = new ViewKernel();
            Tensor o1 = NnOps.flashMultiHeadAttention(k, x1, null, h, e, mask, 0.4, p, r1, false);
            Tensor o2 = NnOps.multiHeadAttention(x2, null, h, mask, null, 0.4, p, r2);
            assertThat(maxDiff(o1, o2)).as("out, p %s", p).isLessThan(1e-5);
            o1.backward(g);
            o2.backward(g);
            assertThat(k.forwards).isEqualTo(1);
            assertThat(k.backwards).isEqualTo(1);
            assertThat(maxDiff(x1.grad(), x2.grad())).as("packed grad, p %s", p).isLessThan(1e-5);
            assertThat(r1.reserve(0)).as("the same numbers drawn").isEqualTo(r2.reserve(0));
            for (float v : o1.select(0, 1).toFloatArray()) assertThat(v).isZero();
        }
    }

    @Test
    void causalAsAFlagEqualsTheCausalMask() {
        int b = 2, h = 2, e = 4;
        for (int[] c : new int[][] {{6, 6}, {4, 7}, {7, 4}}) {
            int lq = c[0], lk = c[1];
            boolean self = lq == lk;
            Tensor q = Tensor.randn(new Random4j(20 + lq), b, lq, (self ? 3 : 1) * h * e);
            Tensor kv = self ? null : Tensor.randn(new Random4j(30 + lk), b, lk, 2 * h * e);
            Tensor pad = Tensor.rand(new Random4j(40), b, 1, 1, lk).lt(0.2);
            Tensor g = Tensor.randn(new Random4j(50), b, lq, h * e);
            Tensor q1 = leaf(q), q2 = leaf(q), q3 = leaf(q);
            Tensor kv1 = kv == null ? null : leaf(kv), kv2 = kv == null ? null : leaf(kv), kv3 = kv == null ? null : leaf(kv);
            ViewKernel k = new ViewKernel();
            Tensor o1 = NnOps.flashMultiHeadAttention(k, q1, kv1, h, e, pad, 0.6, 0.25, new Random4j(9), true);
            Tensor o2 = NnOps.multiHeadAttention(q2, kv2, h, pad, null, 0.6, 0.25, new Random4j(9), true); // CPU: the composite
            Tensor mask = pad.logicalOr(Tensor.arange(lk).view(1, lk).gt(Tensor.arange(lq).view(lq, 1)));
            Tensor o3 = NnOps.multiHeadAttention(q3, kv3, h, mask, null, 0.6, 0.25, new Random4j(9));
            assertThat(maxDiff(o1, o2)).as("flag through the views, %s", java.util.Arrays.toString(c)).isLessThan(1e-5);
            assertThat(o2.toFloatArray()).as("the composite's flag is the mask").isEqualTo(o3.toFloatArray());
            o1.backward(g);
            o2.backward(g);
            assertThat(maxDiff(q1.grad(), q2.grad())).as("dq").isLessThan(1e-5);
            if (kv != null) assertThat(maxDiff(kv1.grad(), kv2.grad())).as("dkv").isLessThan(1e-5);
        }
        assertThat(NnOps.causalMask(3, 4, Device.CPU)).isSameAs(NnOps.causalMask(3, 4, Device.CPU));
        assertThat(NnOps.causalMask(2, 3, Device.CPU).toString()).isNotNull();
        assertThat(NnOps.causalMask(2, 3, Device.CPU).to(DType.F32).toFloatArray()).containsExactly(0, 1, 1, 0, 0, 1);
    }

    @Test
    void crossAttentionWithAGeneralMaskThroughTheViews() {
        int b = 2, lq = 3, lk = 7, h = 3, e = 2;
        Tensor q = Tensor.randn(new Random4j(3), b, lq, h * e), kv = Tensor.randn(new Random4j(4), b, lk, 2 * h * e);
        Tensor mask = Tensor.rand(new Random4j(5), b, 1, lq, lk).lt(0.3);
        Tensor g = Tensor.randn(new Random4j(6), b, lq, h * e);
        Tensor q1 = leaf(q), kv1 = leaf(kv), q2 = leaf(q), kv2 = leaf(kv);
        ViewKernel k = new ViewKernel();
        Tensor o1 = NnOps.flashMultiHeadAttention(k, q1, kv1, h, e, mask, 0.7, 0.2, new Random4j(9), false);
        Tensor o2 = NnOps.multiHeadAttention(q2, kv2, h, mask, null, 0.7, 0.2, new Random4j(9));
        assertThat(maxDiff(o1, o2)).isLessThan(1e-5);
        o1.backward(g);
        o2.backward(g);
        assertThat(maxDiff(q1.grad(), q2.grad())).as("dq").isLessThan(1e-5);
        assertThat(maxDiff(kv1.grad(), kv2.grad())).as("dkv").isLessThan(1e-5);
    }

    @Test
    void fourDimensionalStridedOperandsThroughTheViews() {
        int b = 2, h = 3, lq = 5, lk = 4, e = 4;
        // (B, L, H, E) permuted to (B, H, L, E): not contiguous, last stride 1 (read in place)
        Tensor q = Tensor.randn(new Random4j(10), b, lq, h, e), k = Tensor.randn(new Random4j(11), b, lk, h, e),
                v = Tensor.randn(new Random4j(12), b, lk, h, e);
        Tensor causal = Tensor.arange(lk).view(1, lk).gt(Tensor.arange(lq).view(lq, 1));
        Tensor g = Tensor.randn(new Random4j(13), b, h, lq, e);
        Tensor[] a = {leaf(q), leaf(k), leaf(v)}, c = {leaf(q), leaf(k), leaf(v)};
        ViewKernel kernel = new ViewKernel();
        Tensor o1 = NnOps.flashScaledDotProductAttention(kernel, a[0].permute(0, 2, 1, 3), a[1].permute(0, 2, 1, 3),
                a[2].permute(0, 2, 1, 3), causal, 0.5, 0, null, false);
        Tensor o2 = NnOps.scaledDotProductAttention(c[0].permute(0, 2, 1, 3), c[1].permute(0, 2, 1, 3), c[2].permute(0, 2, 1, 3),
                causal, null, 0.5, 0, null);
        assertThat(maxDiff(o1, o2)).isLessThan(1e-5);
        o1.backward(g);
        o2.backward(g);
        for (int i = 0; i < 3; i++) assertThat(maxDiff(a[i].grad(), c[i].grad())).as("grad %d", i).isLessThan(1e-5);
    }

    @Test
    void bf16OperandsGiveTheKernelBf16OutputsAndGradients() {
        // the CUDA kernel reads and writes all fp32 or all bf16 (FlashAttentionLauncher.params); lse and delta stay fp32
        int b = 2, h = 2, l = 5, e = 4;
        Tensor q = leaf(Tensor.randn(new Random4j(30), b, h, l, e).to(DType.BF16)), k = leaf(Tensor.randn(new Random4j(31), b, h, l, e).to(DType.BF16)),
                v = leaf(Tensor.randn(new Random4j(32), b, h, l, e).to(DType.BF16));
        NnOps.FlashAttentionKernel kernel = new NnOps.FlashAttentionKernel() {
            @Override
            public boolean supports(int headDim) {
                return true;
            }

            @Override
            public void forward(NnOps.FlashAttention a, Tensor out, Tensor lse) {
                assertThat(out.dtype()).isEqualTo(DType.BF16);
                assertThat(lse.dtype()).isEqualTo(DType.F32);
                out.fill_(1);
            }

            @Override
            public void backward(NnOps.FlashAttention a, Tensor out, Tensor lse, Tensor dout, Tensor delta, Tensor dq, Tensor dk, Tensor dv) {
                for (Tensor t : new Tensor[] {out, dout, dq, dk, dv}) assertThat(t.dtype()).isEqualTo(DType.BF16);
                assertThat(delta.dtype()).isEqualTo(DType.F32);
                dq.fill_(2);
                dk.fill_(3);
                dv.fill_(4);
            }
        };
        Tensor o = NnOps.flashScaledDotProductAttention(kernel, q, k, v, null, 0.5, 0, null, false);
        assertThat(o.dtype()).isEqualTo(DType.BF16);
        o.backward(Tensor.ones(b, h, l, e)); // an fp32 gradient is converted for the kernel
        assertThat(q.grad().dtype()).isEqualTo(DType.BF16);
        assertThat(v.grad().toFloatArray()).containsOnly(4f);
    }

    @Test
    void theCpuOffersNoFlashKernelSoAutocastLeavesAttentionBitForBit() {
        assertThat(Backends.of(Device.CPU).kernel(NnOps.FLASH_ATTENTION, DType.BF16)).isEmpty();
        Tensor qkv = Tensor.randn(new Random4j(20), 2, 9, 3 * 2 * 32);
        Tensor plain = NnOps.multiHeadAttention(qkv, null, 2, null, null, 0.2, 0.1, new Random4j(3)), auto;
        try (var ac = Autocast.enable(DType.BF16)) {
            assertThat(NnOps.flashKernel(qkv, qkv, 32, 1, null, null, 0)).isNull();
            auto = NnOps.multiHeadAttention(qkv, null, 2, null, null, 0.2, 0.1, new Random4j(3));
        }
        assertThat(auto.toFloatArray()).containsExactly(plain.toFloatArray());
    }
}
