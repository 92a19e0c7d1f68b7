package io.github.transformers4j.nn.functional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.GradCheck;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The fused attention ops of NnOps (what the CUDA backend runs; here on the CPU, where they are built from the same
 * backend primitives) against the composed path of F.scaledDotProductAttention: outputs and every input gradient,
 * in F64, with padding, causal, boolean and additive masks and dropout; and F64 gradient checks.
 */
class FusedAttentionTest {
    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape).to(DType.F64);
    }

    private static double maxDiff(Tensor a, Tensor b) {
        assertThat(a.shape()).isEqualTo(b.shape());
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
        return worst;
    }

    /** (B, L, H*E) -> (B, H, L, E) view. */
    private static Tensor split(Tensor x, int heads) {
        int b = x.size(0), l = x.size(1);
        return x.view(b, l, heads, x.size(2) / heads).transpose(1, 2);
    }

    private static Tensor merge(Tensor x) {
        return x.transpose(1, 2).reshape(x.size(0), x.size(2), x.size(1) * x.size(3));
    }

    @Test
    void packedSelfAttentionMatchesComposedPathWithPaddingCausalAndGradients() {
        int b = 2, l = 5, h = 3, e = 4;
        Tensor qkv1 = randn(1, b, l, 3 * h * e).requiresGrad(true), qkv2 = qkv1.detach().clone().requiresGrad(true);
        Tensor kpm = Tensor.ofBooleans(new boolean[] {false, false, false, false, true, false, true, true, true, true}, b, l);
        Tensor[] masks = F.attentionMasks("test", b, h, l, l, kpm, null, true, Device.CPU);
        double scale = 0.37;
        Tensor fused = NnOps.multiHeadAttention(qkv1, null, h, masks[0], masks[1], scale, 0, null);
        var parts = qkv2.chunk(3, -1);
        Tensor composed = merge(F.scaledDotProductAttention(split(parts.get(0), h), split(parts.get(1), h), split(parts.get(2), h),
                new SdpaOptions(null, kpm, true, 0, scale, null, false)).output());
        assertThat(maxDiff(fused, composed)).isLessThan(1e-12);
        Tensor w = randn(9, b, l, h * e);
        fused.mul(w).sum().backward();
        composed.mul(w).sum().backward();
        assertThat(maxDiff(qkv1.grad(), qkv2.grad())).isLessThan(1e-12);
        assertThat(qkv1.grad().abs().sum().item()).isGreaterThan(0);
    }

    @Test
    void crossAttentionWithSeparateQueriesAndPackedKeysValuesMatchesComposedPath() {
        int b = 2, lq = 3, lk = 6, h = 2, e = 5;
        Tensor q1 = randn(1, b, lq, h * e).requiresGrad(true), kv1 = randn(2, b, lk, 2 * h * e).requiresGrad(true);
        Tensor q2 = q1.detach().clone().requiresGrad(true), kv2 = kv1.detach().clone().requiresGrad(true);
        Tensor add = randn(3, lq, lk);
        Tensor boolMask = Tensor.ofBooleans(new boolean[] {
                false, true, false, false, false, false,
                false, false, false, true, false, false,
                true, true, true, true, true, true}, lq, lk).logicalNot(); // true = attend; the last query sees nothing: zeros, no NaN
        Tensor[] masks = F.attentionMasks("test", b, h, lq, lk, null, boolMask, false, Device.CPU);
        Tensor fusedBool = NnOps.multiHeadAttention(q1, kv1, h, masks[0], null, 0.5, 0, null);
        Tensor fusedAdd = NnOps.multiHeadAttention(q1, kv1, h, null, add, 0.5, 0, null);
        var kv = kv2.chunk(2, -1);
        Tensor compBool = merge(F.scaledDotProductAttention(split(q2, h), split(kv.get(0), h), split(kv.get(1), h),
                new SdpaOptions(boolMask, null, false, 0, 0.5, null, false)).output());
        Tensor compAdd = merge(F.scaledDotProductAttention(split(q2, h), split(kv.get(0), h), split(kv.get(1), h),
                new SdpaOptions(add, null, false, 0, 0.5, null, false)).output());
        assertThat(maxDiff(fusedBool, compBool)).isLessThan(1e-12);
        assertThat(maxDiff(fusedAdd, compAdd)).isLessThan(1e-12);
        assertThat(fusedBool.narrow(1, 2, 1).abs().sum().item()).isZero();
        Tensor w1 = randn(7, b, lq, h * e), w2 = randn(8, b, lq, h * e);
        fusedBool.mul(w1).sum().add(fusedAdd.mul(w2).sum()).backward();
        compBool.mul(w1).sum().add(compAdd.mul(w2).sum()).backward();
        assertThat(maxDiff(q1.grad(), q2.grad())).isLessThan(1e-12);
        assertThat(maxDiff(kv1.grad(), kv2.grad())).isLessThan(1e-12);
        assertThat(Double.isFinite(q1.grad().sum().item())).isTrue();
    }

    @Test
    void dropoutDrawsTheSameRandomNumbersAsTheComposedPath() {
        int b = 2, l = 4, h = 2, e = 3;
        Tensor qkv = randn(1, b, l, 3 * h * e);
        Tensor fused = NnOps.multiHeadAttention(qkv, null, h, null, null, 0.6, 0.3, new Random4j(42));
        var p = qkv.chunk(3, -1);
        Tensor composed = merge(F.scaledDotProductAttention(split(p.get(0), h), split(p.get(1), h), split(p.get(2), h),
                new SdpaOptions(null, null, false, 0.3, 0.6, new Random4j(42), false)).output());
        assertThat(maxDiff(fused, composed)).isLessThan(1e-12);
        Tensor noDrop = NnOps.multiHeadAttention(qkv, null, h, null, null, 0.6, 0, null);
        assertThat(maxDiff(fused, noDrop)).isGreaterThan(1e-3); // dropout did something
    }

    @Test
    void fourDimensionalFusedAttentionMatchesComposedPathOnStridedInputs() {
        int b = 2, h = 2, lq = 4, lk = 3, e = 3, ev = 5;
        Tensor q1 = randn(1, b, lq, h, e).requiresGrad(true), k1 = randn(2, b, h, lk, e).requiresGrad(true),
                v1 = randn(3, b, h, lk, ev).requiresGrad(true);
        Tensor q2 = q1.detach().clone().requiresGrad(true), k2 = k1.detach().clone().requiresGrad(true),
                v2 = v1.detach().clone().requiresGrad(true);
        Tensor kpm = Tensor.ofBooleans(new boolean[] {false, true, false, false, false, true}, b, lk);
        Tensor[] masks = F.attentionMasks("test", b, h, lq, lk, kpm, null, false, Device.CPU);
        Tensor fused = NnOps.scaledDotProductAttention(q1.transpose(1, 2), k1, v1, masks[0], masks[1], 0.8, 0, null);
        Tensor composed = F.scaledDotProductAttention(q2.transpose(1, 2), k2, v2, new SdpaOptions(null, kpm, false, 0, 0.8, null, false)).output();
        assertThat(maxDiff(fused, composed)).isLessThan(1e-12);
        Tensor w = randn(4, b, h, lq, ev);
        fused.mul(w).sum().backward();
        composed.mul(w).sum().backward();
        assertThat(maxDiff(q1.grad(), q2.grad())).isLessThan(1e-12);
        assertThat(maxDiff(k1.grad(), k2.grad())).isLessThan(1e-12);
        assertThat(maxDiff(v1.grad(), v2.grad())).isLessThan(1e-12);
    }

    @Test
    void gradientsPassFiniteDifferenceChecks() {
        int b = 2, l = 3, h = 2, e = 2;
        Tensor kpm = Tensor.ofBooleans(new boolean[] {false, false, true, false, false, false}, b, l);
        Tensor[] masks = F.attentionMasks("test", b, h, l, l, kpm, null, true, Device.CPU);
        Tensor qkv = randn(5, b, l, 3 * h * e).requiresGrad(true);
        assertThat(GradCheck.maxError(x -> NnOps.multiHeadAttention(x[0], null, h, masks[0], null, 0.7, 0, null), qkv)).isLessThan(1e-6);
        Tensor q = randn(6, b, 2, h * e).requiresGrad(true), kv = randn(7, b, l, 2 * h * e).requiresGrad(true);
        assertThat(GradCheck.maxError(x -> NnOps.multiHeadAttention(x[0], x[1], h, null, null, 0.7, 0, null), q, kv)).isLessThan(1e-6);
        Tensor q4 = randn(8, b, h, 2, e).requiresGrad(true), k4 = randn(9, b, h, l, e).requiresGrad(true), v4 = randn(10, b, h, l, 3).requiresGrad(true);
        assertThat(GradCheck.maxError(x -> NnOps.scaledDotProductAttention(x[0], x[1], x[2], null, null, 0.7, 0, null), q4, k4, v4))
                .isLessThan(1e-6);
    }

    @Test
    void badPackedShapesAreRejectedWithTheShapes() {
        Tensor q = randn(1, 2, 3, 10);
        assertThatThrownBy(() -> NnOps.multiHeadAttention(q, null, 2, null, null, 1, 0, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 3, 10]").hasMessageContaining("2 heads");
        assertThatThrownBy(() -> NnOps.multiHeadAttention(randn(1, 2, 3, 8), randn(2, 2, 4, 8), 2, null, null, 1, 0, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kv [2, 4, 8]");
    }

    @Test
    void causalMaskIsCachedAndCorrect() {
        Tensor m = F.causalMask(3, 4, Device.CPU);
        assertThat(F.causalMask(3, 4, Device.CPU)).isSameAs(m);
        assertThat(m.dtype()).isEqualTo(DType.BOOL);
        assertThat(m.to(DType.F64).toDoubleArray()).containsExactly(0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1);
    }
}
