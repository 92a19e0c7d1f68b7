package io.github.transformers4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.attention.MultiheadAttention;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.nn.transformer.Transformer;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** State dicts written by Python's safetensors package from PyTorch modules load unchanged (strict, no key renaming). */
class StateDictFixturesTest {
    private static final TransformerLayerConfig C = TransformerLayerConfig.of(16, 4).withDimFeedforward(32).withDropout(0).withBatchFirst(true);

    private static final Map<String, Supplier<Module>> MODULES = Map.of(
            "encoder_layer_postnorm_relu", () -> new TransformerEncoderLayer(C),
            "transformer_small", () -> new Transformer(C, 2, 2),
            "mha_cross_padding", () -> new MultiheadAttention(16, 4, 0.0, true, true),
            "conv2d_patch", () -> new Conv2d(3, 8, 4, 4, 0),
            "embedding_padding_idx", () -> new Embedding(10, 8, 0));

    @Test
    void pytorchStateDictsLoadStrictlyWithTheirValues() {
        for (var e : MODULES.entrySet()) {
            Module m = e.getValue().get();
            Map<String, Tensor> file = Fixture.load("statedict/" + e.getKey()).withPrefix("");
            assertThat(m.loadStateDict(file, true).ok()).as(e.getKey()).isTrue();
            Map<String, Tensor> expected = Fixture.load(e.getKey()).params();
            assertThat(m.stateDict().keySet()).as(e.getKey()).containsExactlyInAnyOrderElementsOf(expected.keySet());
            m.stateDict().forEach((k, v) -> Fixture.assertClose(e.getKey() + " " + k, v, expected.get(k), 0, 0));
        }
    }

    @Test
    void strictLoadingNamesWhatDoesNotFit() {
        Map<String, Tensor> file = new LinkedHashMap<>(Fixture.load("statedict/mha_cross_padding").withPrefix(""));
        file.remove("in_proj_bias");
        file.put("bias_k", Tensor.zeros(1, 1, 16));
        assertThatThrownBy(() -> new MultiheadAttention(16, 4).loadStateDict(file, true))
                .hasMessageContaining("1 missing key (in_proj_bias)").hasMessageContaining("1 unexpected key (bias_k)");
        assertThatThrownBy(() -> new MultiheadAttention(8, 4).loadStateDict(Fixture.load("statedict/mha_cross_padding").withPrefix(""), true))
                .hasMessageContaining("in_proj_weight: expected [24, 8], found [48, 16]");
    }
}
