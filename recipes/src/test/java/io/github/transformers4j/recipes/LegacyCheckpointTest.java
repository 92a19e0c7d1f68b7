package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.mae.Masking;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.models.vit.Pooling;
import io.github.transformers4j.models.vit.Positions;
import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.ViTConfig.Blocks;
import io.github.transformers4j.models.vit.ViTConfig.ClassToken;
import io.github.transformers4j.models.vit.ViTConfig.Head;
import io.github.transformers4j.models.vit.ViTConfig.Norm;
import io.github.transformers4j.models.vit.ViTConfig.PatchEmbed;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.Checkpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints written before the ViT family became one {@link VisionTransformer} (by b96284c, with the classes
 * VisionTransformer, ConvViT, EinsumViT, BertViT and MAE's encoder; tools/fixtures/legacy/GenLegacy.java) load strictly
 * into today's models and give the logits that the old classes gave on the same images.
 */
class LegacyCheckpointTest {
    static Map<String, Tensor> expected;
    static Map<String, String> meta;

    @BeforeAll
    static void read() throws IOException {
        try (SafeTensorsFile f = SafeTensors.read(resource("expected.safetensors"))) {
            meta = f.metadata();
            expected = Memory.unscoped(() -> {
                Map<String, Tensor> m = new LinkedHashMap<>();
                f.tensors().forEach((k, raw) -> {
                    try {
                        m.put(k, SafeTensors.toTensor(f.source(), k, raw).keep());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                return m;
            });
        }
    }

    static Path resource(String file) {
        try {
            return Path.of(LegacyCheckpointTest.class.getResource("/legacy-b96284c/" + file).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static ViTConfig.Builder small(int image, int patch, int depth) {
        return ViTConfig.builder().imageSize(image).channels(1).patchSize(patch).dim(16).depth(depth).heads(2).mlpDim(32).numClasses(5);
    }

    /** Each old configuration (in the metadata, as the old record wrote it) and its equivalent today. */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("vit", "VisionTransformer", small(12, 4, 2).build()),
                Arguments.of("vit_mean_prenorm", "VisionTransformer", small(12, 4, 1).pooling(Pooling.MEAN).normFirst(true).build()),
                Arguments.of("conv_norm_cls", "ConvViT", small(14, 4, 1).patchEmbed(PatchEmbed.CONV_NORM).norm(Norm.NONE).build()),
                Arguments.of("conv_sincos_mean", "ConvViT", small(14, 4, 1).patchEmbed(PatchEmbed.CONV).norm(Norm.NONE)
                        .classToken(ClassToken.NONE).positions(Positions.SINCOS).pooling(Pooling.MEAN).build()),
                Arguments.of("conv_window", "ConvViT", small(12, 2, 1).patchEmbed(PatchEmbed.CONV_NORM).norm(Norm.NONE)
                        .window(3, WindowedEncoderLayer.Impl.BLOCKED).build()),
                Arguments.of("einsum", "EinsumViT", small(14, 4, 1).patchEmbed(PatchEmbed.CONV).classToken(ClassToken.LAST)
                        .blocks(Blocks.EINSUM).norm(Norm.TOKENS).pooling(Pooling.ALL).head(Head.MLP, 8).build()),
                Arguments.of("bert", "BertViT", small(12, 4, 2).patchEmbed(PatchEmbed.CONV).dropout(0.1).blocks(Blocks.BERT)
                        .norm(Norm.NONE).head(Head.READOUT, 16).build()));
    }

    @ParameterizedTest(name = "{0} ({1})")
    @MethodSource("cases")
    void oldCheckpointLoadsStrictlyAndGivesTheOldLogits(String name, String oldClass, ViTConfig config) {
        assertThat(meta.get(name + ".class")).endsWith("." + oldClass);
        Checkpoint ck = Checkpoint.load(resource(name + ".safetensors"));
        var model = new VisionTransformer(config, new Random4j(0));
        assertThat(model.numParameters()).as("parameters").isEqualTo(ck.model().entrySet().stream()
                .filter(e -> model.namedParameters().containsKey(e.getKey())).mapToLong(e -> e.getValue().numel()).sum());
        model.loadStateDict(ck.model(), true);
        assertLogits(name, model);
    }

    @Test
    void oldMaeClassifierAndPretrainerCheckpointsLoad() {
        MaeConfig c = new MaeConfig(12, 1, 4, 16, 1, 2, 32, 8, 1, 2, 16, 0.75, false, 5);
        var classifier = new MaeClassifier(c, new Random4j(0));
        classifier.loadStateDict(Checkpoint.load(resource("mae_classifier.safetensors")).model(), true);
        assertLogits("mae_classifier", classifier);

        var mae = new MaskedAutoencoder(c, new Random4j(0));
        Map<String, Tensor> state = Checkpoint.load(resource("mae.safetensors")).model();
        mae.loadStateDict(state, true);
        Tensor ids = Tensor.ofLongs(new long[] {3, 1, 7, 0, 2, 8, 4, 5, 6, 8, 0, 1, 2, 3, 4, 5, 6, 7}, 2, 9);
        try (var g = Grad.disabled()) {
            Tensor latent = mae.forward(expected.get("mae.images"), Masking.of(ids, c.numVisible())).latent();
            assertClose("mae.latent", latent);
        }
        // and its encoder is what --init-from gives a classifier
        var probe = new MaeClassifier(c, new Random4j(1));
        probe.loadEncoder(state);
        assertThat(probe.encoder.posEmbed.data().toFloatArray()).containsExactly(state.get("encoder.pos_embed").toFloatArray());
    }

    static void assertLogits(String name, ImageClassifier model) {
        model.eval();
        try (var g = Grad.disabled()) {
            assertClose(name + ".logits", model.forward(expected.get(name + ".images")));
        }
    }

    static void assertClose(String key, Tensor actual) {
        Tensor want = expected.get(key);
        assertThat(actual.shape()).as(key).containsExactly(want.shape());
        float[] a = actual.toFloatArray(), w = want.toFloatArray();
        for (int i = 0; i < a.length; i++) assertThat((double) a[i]).as(key + "[" + i + "]").isCloseTo(w[i], org.assertj.core.data.Offset.offset(1e-5));
    }
}
