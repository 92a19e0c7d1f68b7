package io.github.transformers4j.nn.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.attention.MultiheadAttention;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.GradCheck;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TransformerTest {
    private static final TransformerLayerConfig SMALL = TransformerLayerConfig.of(8, 2).withDimFeedforward(12).withDropout(0).withBatchFirst(true);

    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape).to(DType.F64);
    }

    private static Tensor padding(int b, int s, int... lengths) {
        boolean[] m = new boolean[b * s];
        for (int i = 0; i < b; i++) for (int j = lengths[i]; j < s; j++) m[i * s + j] = true;
        return Tensor.ofBooleans(m, b, s);
    }

    @Test
    void encoderLayerIsPermutationEquivariantWithoutPositions() {
        for (boolean normFirst : new boolean[] {false, true}) {
            var layer = new TransformerEncoderLayer(SMALL.withNormFirst(normFirst).withActivation(Activation.GELU), new Random4j(1));
            layer.to(DType.F64);
            Tensor x = randn(2, 2, 6, 8);
            Tensor kpm = padding(2, 6, 6, 4);
            Tensor perm = Tensor.ofLongs(new long[] {3, 0, 5, 1, 4, 2}, 6);
            Tensor out = layer.forward(x, null, kpm);
            Tensor outOfPermuted = layer.forward(x.indexSelect(1, perm), null, kpm.to(DType.I64).indexSelect(1, perm).ne(0.0));
            Fixture.assertClose("f(P x) = P f(x), normFirst " + normFirst, outOfPermuted, out.indexSelect(1, perm), 1e-12, 1e-12);
        }
    }

    @Test
    void encoderLayerGradientsMatchFiniteDifferences() {
        for (boolean normFirst : new boolean[] {false, true}) {
            var layer = new TransformerEncoderLayer(SMALL.withNormFirst(normFirst), new Random4j(3));
            layer.to(DType.F64);
            Tensor x = randn(4, 2, 3, 8).requiresGrad(true);
            double err = GradCheck.maxError(a -> layer.forward(a[0], null, a[1], true), x, padding(2, 3, 3, 2));
            assertThat(err).as("normFirst " + normFirst).isLessThan(1e-6);
        }
    }

    @Test
    void decoderLayerGradientsMatchFiniteDifferences() {
        var layer = new TransformerDecoderLayer(SMALL.withNormFirst(true), new Random4j(5));
        layer.to(DType.F64);
        Tensor tgt = randn(6, 2, 3, 8).requiresGrad(true), memory = randn(7, 2, 4, 8).requiresGrad(true);
        double err = GradCheck.maxError(a -> layer.forward(a[0], a[1], null, null, null, a[2], true, false), tgt, memory, padding(2, 4, 4, 1));
        assertThat(err).isLessThan(1e-6);
    }

    @Test
    void causalDecoderOutputAtPositionTDoesNotDependOnLaterTargets() {
        var layer = new TransformerDecoderLayer(SMALL, new Random4j(8));
        layer.to(DType.F64);
        Tensor tgt = randn(9, 1, 5, 8), memory = randn(10, 1, 4, 8);
        Tensor changed = Tensor.cat(List.of(tgt.narrow(1, 0, 3), randn(11, 1, 2, 8)), 1);
        Tensor a = layer.forward(tgt, memory, null, null, null, null, true, false);
        Tensor b = layer.forward(changed, memory, null, null, null, null, true, false);
        Fixture.assertClose("first 3 positions", b.narrow(1, 0, 3), a.narrow(1, 0, 3), 1e-12, 1e-12);
        assertThat(Fixture.maxAbsDiff(b.narrow(1, 3, 2), a.narrow(1, 3, 2))).isGreaterThan(1e-3);
    }

    @Test
    void stateDictKeysAreExactlyPyTorchsInPyTorchsOrder() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Module> modules = Map.of(
                "encoder_layer_postnorm_relu", new TransformerEncoderLayer(SMALL),
                "decoder_layer_postnorm_causal", new TransformerDecoderLayer(SMALL),
                "encoder_2layer", new TransformerEncoder(() -> new TransformerEncoderLayer(SMALL), 2, new LayerNorm(8)),
                "transformer_small", new Transformer(SMALL, 2, 2),
                "mha_cross_padding", new MultiheadAttention(8, 2));
        for (var e : modules.entrySet()) {
            List<String> expected = new ArrayList<>();
            json.readTree(Fixture.load(e.getKey()).metadata().get("state_dict_keys")).forEach(n -> expected.add(n.asText()));
            assertThat(new ArrayList<>(e.getValue().stateDict().keySet())).as(e.getKey()).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void dropoutActsInTrainingOnlyAndEvalEqualsTheNoDropoutLayer() {
        var withDropout = new TransformerEncoderLayer(SMALL.withDropout(0.3), new Random4j(12));
        var without = new TransformerEncoderLayer(SMALL, new Random4j(13));
        without.loadStateDict(withDropout.stateDict(), true);
        Tensor x = Tensor.randn(new Random4j(14), 2, 5, 8);
        assertThat(Fixture.maxAbsDiff(withDropout.forward(x), withDropout.forward(x))).isGreaterThan(1e-3);
        withDropout.eval();
        Fixture.assertClose("eval", withDropout.forward(x), without.forward(x), 0, 0);
    }

    @Test
    void sequenceFirstLayoutIsTheTransposeOfBatchFirst() {
        var bf = new Transformer(SMALL, 1, 1, new Random4j(15));
        var sf = new Transformer(SMALL.withBatchFirst(false), 1, 1, new Random4j(16));
        sf.loadStateDict(bf.stateDict(), true);
        Tensor src = Tensor.randn(new Random4j(17), 2, 5, 8), tgt = Tensor.randn(new Random4j(18), 2, 3, 8);
        Tensor a = bf.forward(src, tgt, null, null, null, padding(2, 5, 5, 2), null, padding(2, 5, 5, 2), false, true, false);
        Tensor b = sf.forward(src.transpose(0, 1), tgt.transpose(0, 1), null, null, null, padding(2, 5, 5, 2), null, padding(2, 5, 5, 2),
                false, true, false);
        Fixture.assertClose("seq-first", b.transpose(0, 1), a, 1e-6, 1e-6);
    }

    @Test
    void transformerReinitialisesMatricesWithXavier() {
        var t = new Transformer(TransformerLayerConfig.of(16, 4).withDimFeedforward(32), 1, 1, new Random4j(19));
        float[] w = t.encoder.layers.get(0).linear1.weight.data().toFloatArray(); // (32, 16)
        double xavier = Math.sqrt(6.0 / (16 + 32)), kaiming = 1 / Math.sqrt(16);
        double max = 0;
        for (float f : w) max = Math.max(max, Math.abs(f));
        assertThat(max).isLessThanOrEqualTo(xavier).isGreaterThan(kaiming);
        assertThat(t.encoder.norm.weight.data().toFloatArray()).containsOnly(1f);
    }

    @Test
    void squareSubsequentMaskIsZeroOnAndBelowTheDiagonal() {
        float[] m = Transformer.generateSquareSubsequentMask(3).toFloatArray();
        float ninf = Float.NEGATIVE_INFINITY;
        assertThat(m).containsExactly(0, ninf, ninf, 0, 0, ninf, 0, 0, 0);
    }

    @Test
    void badArgumentsAreReported() {
        assertThatThrownBy(() -> TransformerLayerConfig.of(10, 4)).hasMessageContaining("dModel 10 must be divisible by nhead 4");
        var t = new Transformer(SMALL, 1, 1);
        assertThatThrownBy(() -> t.forward(Tensor.zeros(2, 5, 8), Tensor.zeros(3, 4, 8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch sizes").hasMessageContaining("[2, 5, 8]")
                .hasMessageContaining("[3, 4, 8]");
        assertThatThrownBy(() -> t.forward(Tensor.zeros(2, 5, 6), Tensor.zeros(2, 4, 6)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("d_model = 8");
        var layer = new TransformerEncoderLayer(SMALL);
        assertThatThrownBy(() -> layer.forward(Tensor.zeros(2, 5, 8), null, padding(2, 4, 4, 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyPaddingMask").hasMessageContaining("[2, 4]");
        // PyTorch's second argument is src_mask: a key-padding-shaped mask there is an error naming attnMask, never padding
        assertThatThrownBy(() -> layer.forward(Tensor.zeros(2, 5, 8), padding(2, 5, 5, 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attnMask must be (L, S) = [5, 5]")
                .hasMessageContaining("[2, 5]");
    }
}
