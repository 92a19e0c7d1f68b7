package io.github.transformers4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class LayersTest {
    private static double maxAbs(Tensor t) {
        double m = 0;
        for (double d : t.to(DType.F64).toDoubleArray()) m = Math.max(m, Math.abs(d));
        return m;
    }

    @Test
    void linearAndConvStartLikePyTorch() {
        var lin = new Linear(64, 200, true, new Random4j(1));
        double bound = 1 / Math.sqrt(64);
        assertThat(maxAbs(lin.weight.data())).isLessThanOrEqualTo(bound).isGreaterThan(0.98 * bound);
        assertThat(maxAbs(lin.bias.data())).isLessThanOrEqualTo(bound).isGreaterThan(0.9 * bound);
        // U(-b, b) has variance b^2 / 3
        double var = lin.weight.data().to(DType.F64).square().mean().item();
        assertThat(var).isBetween(0.95 * bound * bound / 3, 1.05 * bound * bound / 3);
        var conv = new Conv2d(3, 16, 4, 4, 0, true, new Random4j(2));
        double cb = 1 / Math.sqrt(3 * 4 * 4);
        assertThat(maxAbs(conv.weight.data())).isLessThanOrEqualTo(cb).isGreaterThan(0.95 * cb);
        assertThat(new Linear(4, 3, false).stateDict().keySet()).containsExactly("weight");
    }

    @Test
    void embeddingPaddingRowStartsAtZeroAndGetsNoGradient() {
        var emb = new Embedding(10, 4, 2, new Random4j(3));
        assertThat(emb.weight.data().select(0, 2).toFloatArray()).containsOnly(0f);
        double var = emb.weight.data().to(DType.F64).square().sum().item() / (9 * 4); // N(0, 1) on the other rows
        assertThat(var).isBetween(0.4, 2.0);
        Tensor out = emb.forward(Tensor.ofLongs(new long[] {2, 5, 2, 7}, 2, 2));
        assertThat(out.shape()).containsExactly(2, 2, 4);
        out.mul(Tensor.randn(new Random4j(4), 2, 2, 4)).sum().backward();
        Tensor g = emb.weight.grad();
        assertThat(g.select(0, 2).toFloatArray()).containsOnly(0f);
        assertThat(maxAbs(g.select(0, 5))).isPositive();
        assertThat(new Embedding(10, 4, -1).paddingIdx).isEqualTo(9);
        assertThatThrownBy(() -> new Embedding(10, 4, 10)).hasMessageContaining("paddingIdx 10 out of range for 10");
    }

    @Test
    void sequentialNamesChildrenByIndexAndChains() {
        var seq = new Sequential(new Linear(4, 6, true, new Random4j(5)), new GELU("tanh"), new Dropout(0.5), new Linear(6, 2, true, new Random4j(6)));
        assertThat(seq.stateDict().keySet()).containsExactly("0.weight", "0.bias", "3.weight", "3.bias");
        seq.eval();
        Tensor x = Tensor.randn(new Random4j(7), 3, 4);
        Tensor manual = ((Linear) seq.get(3)).forward(((Linear) seq.get(0)).forward(x).geluTanh());
        Fixture.assertClose("sequential", seq.forward(x), manual, 0, 0);
        assertThat(seq.get(2).isTraining()).isFalse();
    }

    @Test
    void dropoutZeroesAboutPAndScalesTheRest() {
        var d = new Dropout(0.25, new Random4j(8));
        Tensor x = Tensor.ones(10000);
        float[] y = d.forward(x).toFloatArray();
        int zeros = 0;
        for (float f : y) {
            if (f == 0) zeros++;
            else assertThat(f).isCloseTo(1 / 0.75f, org.assertj.core.data.Offset.offset(1e-6f));
        }
        assertThat(zeros).isBetween(2300, 2700);
        d.eval();
        assertThat(d.forward(x)).isSameAs(x);
    }

    @Test
    void smallLayersDoWhatTheySay() {
        Tensor x = Tensor.of(new float[] {-1, 0, 2, -3, 4, 0.5f}, 1, 2, 3);
        assertThat(new ReLU().forward(x).toFloatArray()).containsExactly(0, 0, 2, 0, 4, 0.5f);
        assertThat(new Flatten().forward(x).shape()).containsExactly(1, 6);
        assertThat(new Flatten(0, 1).forward(x).shape()).containsExactly(2, 3);
        assertThat(new Identity().forward(x)).isSameAs(x);
        assertThat(new Tanh().forward(x).toFloatArray()[2]).isCloseTo((float) Math.tanh(2), org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(new Sigmoid().forward(x).toFloatArray()[0]).isCloseTo((float) (1 / (1 + Math.E)), org.assertj.core.data.Offset.offset(1e-6f));
        assertThatThrownBy(() -> new GELU("fast")).hasMessageContaining("'fast'");
        var ln = new LayerNorm(new int[] {3}, 1e-5, false, false);
        assertThat(ln.stateDict()).isEmpty();
        Tensor y = ln.forward(x).to(DType.F64);
        Fixture.assertClose("mean 0", y.mean(-1, false), Tensor.zeros(1, 2).to(DType.F64), 0, 1e-6);
        Fixture.assertClose("biased var 1", y.square().mean(-1, false), Tensor.ones(1, 2).to(DType.F64), 0, 1e-4);
    }

    @Test
    void moduleToF64ConvertsEveryParameter() {
        var lin = new Linear(3, 2);
        lin.to(DType.F64);
        assertThat(lin.weight.data().dtype()).isEqualTo(DType.F64);
        assertThat(lin.bias.data().dtype()).isEqualTo(DType.F64);
        assertThat(lin.weight.data().requiresGrad()).isTrue();
        assertThat(lin.forward(Tensor.ones(DType.F64, 4, 3)).dtype()).isEqualTo(DType.F64);
    }

    @Test
    void badInputsNameTheShapes() {
        var lin = new Linear(8, 4);
        assertThatThrownBy(() -> lin.forward(Tensor.zeros(2, 5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 5] has 5 features").hasMessageContaining("[4, 8] expects 8");
        assertThatThrownBy(() -> new LayerNorm(6).forward(Tensor.zeros(2, 5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 5]").hasMessageContaining("[6]");
        assertThatThrownBy(() -> new Conv2d(3, 4, 3, 1, 1).forward(Tensor.zeros(1, 2, 8, 8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[1, 2, 8, 8]");
    }
}
