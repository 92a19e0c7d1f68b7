package io.github.transformers4j.models.zoo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.recurrent.RecurrentConfig;
import io.github.transformers4j.models.vit.PatchEmbedding;
import io.github.transformers4j.models.vit.Pooling;
import io.github.transformers4j.models.vit.Positions;
import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.ViTConfig.Blocks;
import io.github.transformers4j.models.vit.ViTConfig.ClassToken;
import io.github.transformers4j.models.vit.ViTConfig.Head;
import io.github.transformers4j.models.vit.ViTConfig.Norm;
import io.github.transformers4j.models.vit.ViTConfig.PatchEmbed;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Every preset at its real size turns Fashion-MNIST-shaped and CIFAR-shaped batches into logits. */
class ZooShapesTest {
    static java.util.List<String> presets() {
        return ModelZoo.names(ModelZoo.Task.IMAGE_CLASSIFICATION);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presets")
    void forwardGivesLogitsForGreyAndColourImages(String name) {
        for (int[] shape : new int[][] {{28, 1, 10}, {32, 3, 100}}) {
            ImageClassifier m = ModelZoo.create(name, shape[0], shape[1], shape[2], new Random4j(0));
            m.eval();
            try (var g = Grad.disabled()) {
                Tensor logits = m.forward(Tensor.randn(new Random4j(1), 2, shape[1], shape[0], shape[0]));
                assertThat(logits.shape()).as(name).containsExactly(2, shape[2]);
                assertThat(Double.isFinite(logits.abs().sum().item())).isTrue();
            }
            assertThat(m.numClasses()).isEqualTo(shape[2]);
            assertThat(m.config()).as(name + " has a config record").isNotNull();
            assertThat(ModelZoo.describe(name, m)).startsWith(name + ": ").endsWith(String.format("%,d parameters", m.numParameters()));
        }
    }

    @Test
    void patchEmbeddingPadsImagesThatAreNotAMultipleOfThePatch() {
        assertThat(PatchEmbedding.paddingFor(28, 16)).isEqualTo(2);
        assertThat(PatchEmbedding.gridFor(28, 16)).isEqualTo(2);
        assertThat(PatchEmbedding.gridFor(28, 8)).isEqualTo(4);
        assertThat(PatchEmbedding.gridFor(28, 4)).isEqualTo(7);
        assertThat(PatchEmbedding.paddingFor(32, 16)).isZero();
        var pe = new PatchEmbedding(28, 1, 16, 8, true, new Random4j(0));
        assertThat(pe.forward(Tensor.zeros(3, 1, 28, 28)).shape()).containsExactly(3, 4, 8);
        assertThatThrownBy(() -> pe.forward(Tensor.zeros(3, 1, 32, 32))).hasMessageContaining("expected images (B, 1, 28, 28)");
    }

    @Test
    void oneRegistryServesEveryTask() {
        assertThat(ModelZoo.names()).contains("vit-tiny-p4", "mae-tiny", "summarizer-4x512", "summarizer-tiny");
        assertThat(ModelZoo.names(ModelZoo.Task.PRETRAINING)).containsExactly("mae-tiny");
        assertThat(ModelZoo.names(ModelZoo.Task.SEQ2SEQ)).containsExactly("summarizer-4x512", "summarizer-tiny");
        assertThat(ModelZoo.preset("mae-tiny").tasks()).containsExactly(ModelZoo.Task.IMAGE_CLASSIFICATION, ModelZoo.Task.PRETRAINING);
        assertThat(ModelZoo.has("Summarizer-Tiny", ModelZoo.Task.SEQ2SEQ)).isTrue();
        assertThat(ModelZoo.has("vit-tiny-p4", ModelZoo.Task.SEQ2SEQ)).isFalse();
        var c = ModelZoo.preset("summarizer-tiny").seq2seqConfig(100, 64, 0, 1);
        assertThat(new int[] {c.dModel(), c.numEncoderLayers(), c.nhead(), c.dimFeedforward()}).containsExactly(128, 2, 4, 512);
        assertThat(ModelZoo.createPretrainer("mae-tiny", 32, 3, new Random4j(0)).numParameters()).isPositive();
        // a preset asked for a task it does not serve names the task and the presets that do
        assertThatThrownBy(() -> ModelZoo.create("summarizer-tiny", 28, 1, 10, new Random4j(0)))
                .hasMessageContaining("does not serve image classification").hasMessageContaining("vit-tiny-p4");
        assertThatThrownBy(() -> ModelZoo.createPretrainer("vit-tiny-p4", 32, 3, new Random4j(0)))
                .hasMessageContaining("pretraining").hasMessageContaining("mae-tiny");
    }

    @Test
    void builtConfigurationsEqualThePositionalOnes() {
        assertThat(ModelZoo.MAE_TINY).isEqualTo(new MaeConfig(32, 3, 4, 256, 4, 4, 1024, 128, 2, 4, 512, 0.75, false, 10));
        assertThat(ViTConfig.builder().dim(128).mlpDim(512).build()).isEqualTo(new ViTConfig(32, 3, 4, 128, 4, 4, 512, 0.0, 10,
                Pooling.CLS, false, PatchEmbed.LINEAR, ClassToken.FIRST, Positions.LEARNED, Blocks.ENCODER, Norm.POOLED, Head.LINEAR, 0, 0,
                WindowedEncoderLayer.Impl.MASK));
        ViTConfig c = ViTConfig.builder().patchSize(16).blocks(Blocks.EINSUM).classToken(ClassToken.LAST).head(Head.MLP, 64).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThat(c.normFirst()).as("einsum blocks are pre-norm").isTrue();
        assertThat(RecurrentConfig.builder().cell(RecurrentConfig.Cell.LSTM).build())
                .isEqualTo(new RecurrentConfig(RecurrentConfig.Cell.LSTM, 32, 3, 16, 64, 128, 1, false, 0.0, 10));
    }

    @Test
    void everyModelConfigurationSurvivesConfigJson() throws Exception {
        // config.json and checkpoints carry the model's record as JSON (choices as lower-case names)
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String name : ModelZoo.names(ModelZoo.Task.IMAGE_CLASSIFICATION)) {
            Record c = ModelZoo.create(name, 28, 1, 10, new Random4j(0)).config();
            String text = json.writeValueAsString(c);
            assertThat(json.readValue(text, c.getClass())).as(name + ": " + text).isEqualTo(c);
            if (c instanceof ViTConfig) assertThat(text).contains("\"patchEmbed\":\"").doesNotContain("\"CONV");
        }
        // a plain ViT's config.json written before the choices existed reads back as that ViT
        ViTConfig old = json.readValue("{\"imageSize\":28,\"channels\":1,\"patchSize\":4,\"dim\":128,\"depth\":4,\"heads\":4,"
                + "\"mlpDim\":512,\"dropout\":0.0,\"numClasses\":10,\"pooling\":\"cls\",\"normFirst\":false}", ViTConfig.class);
        assertThat(old).isEqualTo(ViTConfig.builder().imageSize(28).channels(1).dim(128).mlpDim(512).build());
    }

    @Test
    void unknownPresetNamesTheKnownOnes() {
        assertThatThrownBy(() -> ModelZoo.create("vit-huge", 28, 1, 10, new Random4j(0))).hasMessageContaining("vit-bert12-p4")
                .hasMessageContaining("mae-tiny");
    }
}
