package io.github.transformers4j.nn.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.nn.transformer.Transformer;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.GradCheck;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultiheadAttentionTest {
    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape).to(DType.F64);
    }

    private static MultiheadAttention mha64(int e, int h, boolean batchFirst, long seed) {
        var m = new MultiheadAttention(e, h, 0.0, true, batchFirst, e, e, new Random4j(seed));
        m.to(DType.F64);
        // non-zero biases so that the bias paths are exercised
        try (var g = io.github.transformers4j.tensor.Grad.disabled()) {
            m.inProjBias.data().copy_(randn(seed + 100, 3 * e).mul(0.1));
            m.outProj.bias.data().copy_(randn(seed + 101, e).mul(0.1));
        }
        return m;
    }

    private static Tensor padding(int b, int s, int... lengths) {
        boolean[] m = new boolean[b * s];
        for (int i = 0; i < b; i++) for (int j = lengths[i]; j < s; j++) m[i * s + j] = true;
        return Tensor.ofBooleans(m, b, s);
    }

    @Test
    void einsumFormulationGivesTheSameOutputsWeightsAndGradients() {
        var mha = mha64(8, 2, true, 1);
        var ein = EinsumMultiheadAttention.from(mha);
        assertThat(ein.qkvWeight.shape()).containsExactly(3, 8, 2, 4);
        assertThat(ein.outWeight.shape()).containsExactly(2, 4, 8);
        Tensor kpm = padding(2, 5, 5, 3);
        // self-attention with padding and causal mask, per-head weights
        Tensor x1 = randn(2, 2, 5, 8).requiresGrad(true), x2 = x1.detach().clone().requiresGrad(true);
        Attention a = mha.forward(x1, x1, x1, kpm, true, null, false, true);
        Attention b = ein.forward(x2, x2, x2, kpm, true, null, false, true);
        Fixture.assertClose("self output", b.output(), a.output(), 1e-12, 1e-13);
        Fixture.assertClose("self weights", b.weights(), a.weights(), 1e-12, 1e-13);
        Tensor go = randn(3, 2, 5, 8);
        a.output().mul(go).sum().backward();
        b.output().mul(go).sum().backward();
        Fixture.assertClose("grad x", x2.grad(), x1.grad(), 1e-11, 1e-13);
        // parameter gradients correspond through the same rearrangement as the weights
        Fixture.assertClose("grad qkv", ein.qkvWeight.grad(), mha.inProjWeight.grad().view(3, 2, 4, 8).permute(0, 3, 1, 2), 1e-11, 1e-13);
        Fixture.assertClose("grad out", ein.outWeight.grad(), mha.outProj.weight.grad().view(8, 2, 4).permute(1, 2, 0), 1e-11, 1e-13);
        Fixture.assertClose("grad qkv bias", ein.qkvBias.grad(), mha.inProjBias.grad().view(3, 2, 4), 1e-11, 1e-13);
        // cross-attention, averaged weights
        Tensor q = randn(4, 2, 3, 8), kv = randn(5, 2, 5, 8), v = randn(6, 2, 5, 8);
        Attention c = mha.forward(q, kv, v, kpm, true, null, true, false);
        Attention d = ein.forward(q, kv, v, kpm, true, null, true, false);
        Fixture.assertClose("cross output", d.output(), c.output(), 1e-12, 1e-13);
        Fixture.assertClose("cross weights", d.weights(), c.weights(), 1e-12, 1e-13);
    }

    @Test
    void einsumSequenceFirstMatchesToo() {
        var mha = mha64(6, 3, false, 7);
        var ein = EinsumMultiheadAttention.from(mha);
        Tensor x = randn(8, 4, 2, 6); // (L, B, E)
        Tensor mask = Transformer.generateSquareSubsequentMask(4, DType.F64);
        Attention a = mha.forward(x, x, x, padding(2, 4, 4, 2), true, mask, true, false);
        Attention b = ein.forward(x, x, x, padding(2, 4, 4, 2), true, mask, true, false);
        assertThat(b.output().shape()).containsExactly(4, 2, 6);
        Fixture.assertClose("seq-first", b.output(), a.output(), 1e-12, 1e-13);
    }

    @Test
    void newEinsumAttentionStartsWithTheWeightsOfAnMhaFromTheSameSeed() {
        var mha = new MultiheadAttention(8, 4, 0.0, true, true, 8, 8, new Random4j(3));
        var ein = new EinsumMultiheadAttention(8, 4, 0.0, true, true, new Random4j(3));
        Fixture.assertClose("init", ein.qkvWeight.data(), mha.inProjWeight.data().view(3, 4, 2, 8).permute(0, 3, 1, 2), 0, 0);
        Fixture.assertClose("init out", ein.outWeight.data(), mha.outProj.weight.data().view(8, 4, 2).permute(1, 2, 0), 0, 0);
    }

    @Test
    void perHeadWeightsAverageToTheDefaultWeights() {
        var mha = mha64(8, 4, true, 2);
        Tensor q = randn(9, 2, 3, 8), kv = randn(10, 2, 6, 8);
        Attention perHead = mha.forward(q, kv, kv, padding(2, 6, 6, 2), true, null, false, false);
        Attention avg = mha.forward(q, kv, kv, padding(2, 6, 6, 2), true, null, true, false);
        assertThat(perHead.weights().shape()).containsExactly(2, 4, 3, 6);
        assertThat(avg.weights().shape()).containsExactly(2, 3, 6);
        Fixture.assertClose("mean over heads", perHead.weights().mean(1, false), avg.weights(), 0, 1e-15);
        Fixture.assertClose("rows sum to 1", perHead.weights().sum(-1, false), Tensor.ones(2, 4, 3).to(DType.F64), 0, 1e-12);
        double[] w = perHead.weights().toDoubleArray(); // padded keys of batch 1 (j >= 2) get weight 0
        for (int h = 0; h < 4; h++) for (int i = 0; i < 3; i++) for (int j = 2; j < 6; j++) assertThat(w[((4 + h) * 3 + i) * 6 + j]).isZero();
        assertThat(mha.forward(q, kv, kv, null, false, null, true, false).weights()).isNull();
    }

    @Test
    void hookSeesPerHeadWeightsEvenWhenWeightsAreNotRequested() {
        var mha = mha64(8, 2, true, 4);
        List<int[]> seen = new ArrayList<>();
        mha.onAttentionWeights(w -> seen.add(w.shape()));
        Tensor x = randn(11, 3, 5, 8);
        mha.forward(x, x, x, null, false, null, true, false);
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0)).containsExactly(3, 2, 5, 5);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        var mha = mha64(4, 2, true, 5);
        Tensor q = randn(12, 2, 3, 4).requiresGrad(true), k = randn(13, 2, 4, 4).requiresGrad(true), v = randn(14, 2, 4, 4).requiresGrad(true);
        Tensor kpm = padding(2, 4, 4, 2);
        assertThat(GradCheck.maxError(x -> mha.forward(x[0], x[1], x[2], x[3], false, null, true, false).output(), q, k, v, kpm)).isLessThan(1e-7);
        Tensor s = randn(15, 2, 4, 4).requiresGrad(true);
        assertThat(GradCheck.maxError(x -> mha.forward(x[0], x[0], x[0], x[1], false, null, true, true).output(), s, kpm)).isLessThan(1e-7);
    }

    @Test
    void boolMaskIsCausalAndFloatMaskAgree() {
        var mha = mha64(8, 2, true, 6);
        Tensor x = randn(16, 2, 4, 8);
        boolean[] upper = new boolean[16];
        for (int i = 0; i < 4; i++) for (int j = i + 1; j < 4; j++) upper[i * 4 + j] = true;
        Tensor viaBool = mha.forward(x, x, x, null, false, Tensor.ofBooleans(upper, 4, 4), true, false).output();
        Tensor viaFloat = mha.forward(x, x, x, null, false, Transformer.generateSquareSubsequentMask(4, DType.F64), true, false).output();
        Tensor viaCausal = mha.forward(x, x, x, null, false, null, true, true).output();
        Fixture.assertClose("bool vs float", viaBool, viaFloat, 0, 1e-15);
        Fixture.assertClose("is_causal vs float", viaCausal, viaFloat, 0, 1e-15);
        // a (B * H, L, S) mask: mask key 0 for head 1 of batch 0 only
        boolean[] perHead = new boolean[2 * 2 * 4 * 4];
        for (int i = 0; i < 4; i++) perHead[(1 * 4 + i) * 4] = true;
        Attention a = mha.forward(x, x, x, null, true, Tensor.ofBooleans(perHead, 4, 4, 4), false, false);
        double[] w = a.weights().toDoubleArray();
        for (int i = 0; i < 4; i++) {
            assertThat(w[(1 * 4 + i) * 4]).isZero();
            assertThat(w[(0 * 4 + i) * 4]).isPositive();
        }
    }

    @Test
    void fullyMaskedQueryGivesTheOutputBiasAndFiniteGradients() {
        var mha = mha64(8, 2, true, 8);
        Tensor x = randn(17, 2, 3, 8).requiresGrad(true);
        Tensor kpm = padding(2, 3, 3, 0); // batch 1: every key is padding
        Tensor out = mha.forward(x, x, x, kpm, false, null, true, false).output();
        Fixture.assertClose("batch 1 = out_proj.bias", out.select(0, 1), mha.outProj.bias.data().expand(3, 8), 0, 1e-15);
        out.mul(randn(18, 2, 3, 8)).sum().backward();
        assertThat(java.util.Arrays.stream(x.grad().toDoubleArray()).boxed().toList()).allMatch(Double::isFinite);
        assertThat(x.grad().select(0, 1).toDoubleArray()).containsOnly(0.0);
        assertThat(java.util.Arrays.stream(mha.inProjWeight.grad().toDoubleArray()).boxed().toList()).allMatch(Double::isFinite);
    }

    @Test
    void unbatchedInputEqualsABatchOfOne() {
        var mha = mha64(8, 2, true, 9);
        Tensor q = randn(19, 3, 8), kv = randn(20, 5, 8);
        Attention a = mha.forward(q, kv, kv, Tensor.ofBooleans(new boolean[] {false, false, false, true, true}, 5), true, null, true, false);
        Attention b = mha.forward(q.unsqueeze(0), kv.unsqueeze(0), kv.unsqueeze(0),
                Tensor.ofBooleans(new boolean[] {false, false, false, true, true}, 1, 5), true, null, true, false);
        assertThat(a.output().shape()).containsExactly(3, 8);
        Fixture.assertClose("unbatched", a.output(), b.output().squeeze(0), 0, 0);
        Fixture.assertClose("unbatched weights", a.weights(), b.weights().squeeze(0), 0, 0);
    }

    @Test
    void initialisationFollowsPyTorch() {
        var mha = new MultiheadAttention(16, 4, 0.0, true, true);
        assertThat(mha.stateDict().keySet()).containsExactly("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias");
        assertThat(mha.inProjBias.data().toFloatArray()).containsOnly(0f);
        assertThat(mha.outProj.bias.data().toFloatArray()).containsOnly(0f);
        double bound = Math.sqrt(6.0 / (16 + 48)); // xavier_uniform on (3E, E)
        float[] w = mha.inProjWeight.data().toFloatArray();
        for (float f : w) assertThat(Math.abs(f)).isLessThanOrEqualTo((float) bound);
        double max = 0;
        for (float f : w) max = Math.max(max, Math.abs(f));
        assertThat(max).isGreaterThan(0.9 * bound);
        var sep = new MultiheadAttention(16, 4, 0.0, false, true, 10, 12, new Random4j(1));
        assertThat(sep.stateDict().keySet()).containsExactly("q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight");
        assertThat(sep.forward(randn(1, 2, 3, 16).to(DType.F32), randn(2, 2, 4, 10).to(DType.F32), randn(3, 2, 4, 12).to(DType.F32))
                .output().shape()).containsExactly(2, 3, 16);
    }

    @Test
    void dropoutActsOnlyInTraining() {
        var mha = new MultiheadAttention(8, 2, 0.5, true, true, 8, 8, new Random4j(1)).dropoutRng(new Random4j(2));
        Tensor x = Tensor.randn(new Random4j(3), 2, 6, 8);
        Tensor t1 = mha.forward(x, x, x).output(), t2 = mha.forward(x, x, x).output();
        assertThat(Fixture.maxAbsDiff(t1, t2)).isGreaterThan(1e-3);
        mha.eval();
        Tensor e1 = mha.forward(x, x, x).output(), e2 = mha.forward(x, x, x).output();
        Fixture.assertClose("eval is deterministic", e1, e2, 0, 0);
    }

    @Test
    void badArgumentsNameTheShapes() {
        assertThatThrownBy(() -> new MultiheadAttention(10, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embedDim 10 must be divisible by numHeads 3");
        var mha = new MultiheadAttention(16, 4, 0.0, true, true);
        Tensor wrong = Tensor.zeros(2, 5, 8);
        assertThatThrownBy(() -> mha.forward(wrong, wrong, wrong))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embed dim 8").hasMessageContaining("embedDim is 16")
                .hasMessageContaining("[2, 5, 8]");
        Tensor x = Tensor.zeros(2, 5, 16);
        assertThatThrownBy(() -> mha.forward(x, x, x, null, false, Tensor.zeros(4, 4), true, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attnMask").hasMessageContaining("[5, 5]")
                .hasMessageContaining("[4, 4]");
        assertThatThrownBy(() -> mha.forward(x, x, x, padding(2, 4, 4, 4), false, null, true, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyPaddingMask").hasMessageContaining("[2, 5]")
                .hasMessageContaining("[2, 4]");
        assertThatThrownBy(() -> mha.forward(x, Tensor.zeros(3, 5, 16), Tensor.zeros(3, 5, 16)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch sizes");
        var ein = new EinsumMultiheadAttention(16, 4, 0.0, true, true);
        assertThatThrownBy(() -> ein.forward(wrong, wrong, wrong)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embed dim 8");
        assertThatThrownBy(() -> ein.copyFrom(new MultiheadAttention(16, 2, 0.0, true, true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MultiheadAttention(16, 2");
    }
}
