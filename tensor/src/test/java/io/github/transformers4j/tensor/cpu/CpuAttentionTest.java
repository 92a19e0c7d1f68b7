package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The CPU's one-pass attention ({@link CpuAttention}, what {@link NnOps#multiHeadAttention} and
 * {@link NnOps#scaledDotProductAttention} run for fp32 without dropout with {@code -Dt4j.cpu.flashAttention=true})
 * against the composite (products, masked fill, softmax, products), whose ops are gradient-checked in OpTest: outputs and
 * every input gradient, with key-padding and general masks, causal, cross-attention, head dims that are not a whole
 * vector, a fully masked row.
 */
class CpuAttentionTest {
    static final double TOL = 2e-5;

    @org.junit.jupiter.api.BeforeEach
    void onePass() {
        System.setProperty("t4j.cpu.flashAttention", "true");
    }

    @org.junit.jupiter.api.AfterEach
    void restore() {
        System.clearProperty("t4j.cpu.flashAttention");
    }

    /** What f returns with the composite. */
    private static <T> T composite(Supplier<T> f) {
        System.clearProperty("t4j.cpu.flashAttention");
        try {
            return f.get();
        } finally {
            System.setProperty("t4j.cpu.flashAttention", "true");
        }
    }

    private static double maxDiff(Tensor a, Tensor b) {
        assertThat(a.shape()).isEqualTo(b.shape());
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            assertThat(Float.isFinite(x[i])).as("element %d finite", i).isTrue();
            m = Math.max(m, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
        }
        return m;
    }

    /** out, and the gradients of q and kv (kv null: packed self-attention) for output gradient g. */
    private static Tensor[] mha(Tensor q, Tensor kv, int heads, Tensor mask, boolean causal, Tensor g) {
        Tensor qg = q.detach().clone().requiresGrad(true), kvg = kv == null ? null : kv.detach().clone().requiresGrad(true);
        Tensor out = NnOps.multiHeadAttention(qg, kvg, heads, mask, null, 0.3, 0, null, causal);
        out.backward(g);
        return kv == null ? new Tensor[] {out, qg.grad()} : new Tensor[] {out, qg.grad(), kvg.grad()};
    }

    private static void compare(String what, Tensor q, Tensor kv, int heads, Tensor mask, boolean causal, Tensor g) {
        long before = CpuAttention.calls();
        Tensor[] fast = mha(q, kv, heads, mask, causal, g), ref = composite(() -> mha(q, kv, heads, mask, causal, g));
        assertThat(CpuAttention.calls() - before).as("%s: one-pass forward and backward", what).isEqualTo(2);
        String[] names = {"out", "d(q or packed qkv)", "d(kv)"};
        for (int i = 0; i < fast.length; i++) assertThat(maxDiff(fast[i], ref[i])).as("%s: %s", what, names[i]).isLessThan(TOL);
    }

    @Test
    void theCpuOffersItForFp32OnlyWhenAskedFor() {
        assertThat(Backends.of(Device.CPU).kernel(NnOps.FLASH_ATTENTION, DType.F32)).containsSame(CpuAttention.INSTANCE);
        assertThat(composite(() -> Backends.of(Device.CPU).kernel(NnOps.FLASH_ATTENTION, DType.F32))).isEmpty();
        assertThat(Backends.of(Device.CPU).kernel(NnOps.FLASH_ATTENTION, DType.BF16)).isEmpty();
        Tensor qkv = Tensor.randn(new Random4j(1), 2, 5, 3 * 8);
        long before = CpuAttention.calls();
        NnOps.multiHeadAttention(qkv, null, 2, null, null, 0.5, 0, null);
        assertThat(CpuAttention.calls() - before).as("fp32 without dropout").isEqualTo(1);
        NnOps.multiHeadAttention(qkv, null, 2, null, null, 0.5, 0.1, new Random4j(2));
        composite(() -> NnOps.multiHeadAttention(qkv, null, 2, null, null, 0.5, 0, null));
        NnOps.multiHeadAttention(qkv.to(DType.F64), null, 2, null, null, 0.5, 0, null);
        assertThat(CpuAttention.calls() - before).as("dropout, switched off, F64: the composite").isEqualTo(1);
    }

    @Test
    void selfAttentionForHeadDimsAndLengthsOfAnyRemainder() {
        int b = 2, h = 3;
        for (int e : new int[] {4, 16, 20, 32, 64}) {
            for (int l : new int[] {1, 7, 17, 50}) {
                Tensor qkv = Tensor.randn(new Random4j(e * 100 + l), b, l, 3 * h * e), g = Tensor.randn(new Random4j(l), b, l, h * e);
                compare("E " + e + ", L " + l, qkv, null, h, null, false, g);
                compare("E " + e + ", L " + l + ", causal", qkv, null, h, null, true, g);
            }
        }
    }

    @Test
    void moreQueriesThanOneBackwardBlock() {
        // the backward takes queries in blocks of 64: dk and dv summed over blocks, the last one partial
        Tensor qkv = Tensor.randn(new Random4j(11), 2, 130, 3 * 2 * 16), g = Tensor.randn(new Random4j(12), 2, 130, 2 * 16);
        compare("L 130", qkv, null, 2, null, false, g);
        compare("L 130, causal", qkv, null, 2, null, true, g);
        Tensor q = Tensor.randn(new Random4j(13), 2, 200, 2 * 16), kv = Tensor.randn(new Random4j(14), 2, 33, 2 * 2 * 16);
        compare("Lq 200, Lk 33", q, kv, 2, null, false, Tensor.randn(new Random4j(15), 2, 200, 2 * 16));
    }

    @Test
    void crossAttentionWithAKeyPaddingMaskAndAFullyMaskedBatch() {
        int b = 3, lq = 9, lk = 21, h = 2, e = 24;
        boolean[] pad = new boolean[b * lk];
        for (int j = 15; j < lk; j++) pad[j] = true;      // batch 0: the last keys padded
        for (int j = 0; j < lk; j++) pad[lk + j] = true;  // batch 1: every key padded -> out 0, gradients 0
        Tensor mask = Tensor.ofBooleans(pad, b, lk).view(b, 1, 1, lk);
        Tensor q = Tensor.randn(new Random4j(3), b, lq, h * e), kv = Tensor.randn(new Random4j(4), b, lk, 2 * h * e);
        Tensor g = Tensor.randn(new Random4j(5), b, lq, h * e);
        compare("key padding, cross", q, kv, h, mask, false, g);
        Tensor[] fast = mha(q, kv, h, mask, false, g);
        for (float v : fast[0].select(0, 1).toFloatArray()) assertThat(v).isZero();
        for (float v : fast[1].select(0, 1).toFloatArray()) assertThat(v).isZero();
    }

    @Test
    void aGeneralMaskPerHeadAndQueryWithCausal() {
        int b = 2, l = 13, h = 2, e = 16;
        java.util.Random r = new java.util.Random(9);
        boolean[] m = new boolean[b * h * l * l];
        for (int i = 0; i < m.length; i++) m[i] = r.nextDouble() < 0.3;
        Tensor mask = Tensor.ofBooleans(m, b, h, l, l);
        Tensor qkv = Tensor.randn(new Random4j(6), b, l, 3 * h * e), g = Tensor.randn(new Random4j(7), b, l, h * e);
        compare("general mask", qkv, null, h, mask, false, g);
        compare("general mask and causal", qkv, null, h, mask, true, g);
    }

    @Test
    void scaledDotProductAttentionOnStridedViews() {
        // q, k, v (B, H, L, E) as transposed views of (B, L, H, E): strides the kernel reads through
        Tensor q = Tensor.randn(new Random4j(1), 2, 11, 3, 8).transpose(1, 2), k = Tensor.randn(new Random4j(2), 2, 19, 3, 8).transpose(1, 2);
        Tensor v = Tensor.randn(new Random4j(3), 2, 19, 3, 8).transpose(1, 2), g = Tensor.randn(new Random4j(4), 2, 3, 11, 8);
        Supplier<Tensor[]> run = () -> {
            Tensor qg = q.detach().clone().requiresGrad(true), kg = k.detach().clone().requiresGrad(true), vg = v.detach().clone().requiresGrad(true);
            Tensor out = NnOps.scaledDotProductAttention(qg.transpose(1, 2).transpose(1, 2), kg, vg, null, null, 0.35, 0, null, true);
            out.backward(g);
            return new Tensor[] {out, qg.grad(), kg.grad(), vg.grad()};
        };
        Tensor[] fast = run.get(), ref = composite(run);
        for (int i = 0; i < 4; i++) assertThat(maxDiff(fast[i], ref[i])).as("tensor %d", i).isLessThan(TOL);
    }
}
