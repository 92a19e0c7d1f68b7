package io.github.transformers4j.models.zoo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.mae.Masking;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.models.recurrent.RecurrentConfig;
import io.github.transformers4j.models.vit.SinCos;
import io.github.transformers4j.models.vit.Pooling;
import io.github.transformers4j.models.vit.Positions;
import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.ViTConfig.Blocks;
import io.github.transformers4j.models.vit.ViTConfig.ClassToken;
import io.github.transformers4j.models.vit.ViTConfig.Head;
import io.github.transformers4j.models.vit.ViTConfig.Norm;
import io.github.transformers4j.models.vit.ViTConfig.PatchEmbed;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Forward and backward parity with the PyTorch twins (tools/fixtures/models.py) on small configurations: the PyTorch
 * state dict loads with strict=true (same key names and shapes), the logits match, and so do the gradients of
 * sum(logits * gradout) with respect to every parameter.
 */
class ZooParityTest {
    /** Gradients pass through more arithmetic than the outputs: a looser absolute floor. */
    static final double GRAD_RTOL = 1e-4, GRAD_ATOL = 1e-4;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "vit_tiny_p4, vit.VisionTransformer",
            "vit_conv_p16, vit.VisionTransformer",
            "vit_sincos_p8, vit.VisionTransformer",
            "vit_window, vit.VisionTransformer",
            "vit_einsum_p16, vit.VisionTransformer",
            "vit_bert12_p4, vit.VisionTransformer",
            "gru_p16, recurrent.RecurrentClassifier",
            "lstm_p16, recurrent.RecurrentClassifier",
            "rnn_p16, recurrent.RecurrentClassifier",
            "mae_tiny_classifier, mae.MaeClassifier"})
    void classifierMatchesPyTorch(String name, String javaClass) {
        ZooFixture fx = ZooFixture.load(name);
        ImageClassifier model = ModelZoo.create((Record) configOf(fx), new Random4j(0));
        assertThat(model.getClass().getName()).isEqualTo("io.github.transformers4j.models." + javaClass);
        check(fx, model);
    }

    @Test
    void windowedAttentionBlockedKernelMatchesPyTorchsMaskedAttention() {
        ZooFixture fx = ZooFixture.load("vit_window");
        ViTConfig c = (ViTConfig) configOf(fx);
        assertThat(c.window()).isEqualTo(3);
        check(fx, new VisionTransformer(c.withWindow(3, WindowedEncoderLayer.Impl.BLOCKED), new Random4j(0)));
    }

    @Test
    void stateDictKeysAreExactlyPyTorchsInOrder() {
        for (String name : List.of("vit_bert12_p4", "vit_einsum_p16", "gru_p16", "mae_tiny")) {
            ZooFixture fx = ZooFixture.load(name);
            List<String> torchKeys = new java.util.ArrayList<>();
            fx.meta("state_dict_keys").forEach(n -> torchKeys.add(n.asText()));
            var model = name.startsWith("mae_tiny") ? new MaskedAutoencoder(fx.config(MaeConfig.class), new Random4j(0))
                    : ModelZoo.create((Record) configOf(fx), new Random4j(0));
            assertThat(model.stateDict().keySet()).as(name).containsExactlyInAnyOrderElementsOf(torchKeys);
        }
    }

    @Test
    void bertKeysAreHuggingFacesBertModelKeys() {
        ZooFixture fx = ZooFixture.load("vit_bert12_p4");
        // written by gen_models.py after loading our BERT state dict into transformers' BertModel (strict=False)
        assertThat(fx.metadata.get("hf_check")).startsWith("transformers ");
        assertThat(fx.meta("hf_unexpected_keys")).as("our keys that BertModel does not have").isEmpty();
        List<String> missing = new java.util.ArrayList<>();
        fx.meta("hf_missing_keys").forEach(n -> missing.add(n.asText()));
        assertThat(missing).as("BertModel keys we leave out").allMatch(k -> k.startsWith("embeddings.word_embeddings")
                || k.startsWith("embeddings.token_type_embeddings") || k.startsWith("embeddings.position_ids"));
        assertThat(Double.parseDouble(fx.metadata.get("hf_max_abs_diff"))).isLessThan(1e-5);
    }

    @Test
    void sinusoidalBufferEqualsPyTorchs() {
        ZooFixture fx = ZooFixture.load("vit_sincos_p8");
        Tensor pe = fx.get("param.pos_embed");
        Tensor ours = SinCos.encoding1d(pe.size(1), pe.size(2)).unsqueeze(0);
        fx.assertClose("param.pos_embed", ours, 0, 1e-6);
        assertThat(new VisionTransformer((ViTConfig) configOf(fx), new Random4j(0)).numParameters())
                .as("the fixed positions are a buffer, not a parameter").isEqualTo(fx.params().entrySet().stream()
                        .filter(e -> !e.getKey().equals("pos_embed")).mapToLong(e -> e.getValue().numel()).sum());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"mae_tiny", "mae_tiny_normpix"})
    void maskedAutoencoderWithAFixedShuffleMatchesPyTorch(String name) {
        ZooFixture fx = ZooFixture.load(name);
        MaeConfig c = fx.config(MaeConfig.class);
        var mae = new MaskedAutoencoder(c, new Random4j(0));
        mae.loadStateDict(fx.params(), true);
        MaskedAutoencoder.Output o = mae.forward(fx.get("input.images"), Masking.of(fx.get("input.ids_shuffle"), c.numVisible()));
        assertThat(o.masking().idsRestore().toLongArray()).containsExactly(fx.get("output.ids_restore").toLongArray());
        fx.assertClose("output.mask", o.masking().mask());
        fx.assertClose("output.latent", o.latent());
        fx.assertClose("output.pred", o.pred());
        fx.assertClose("output.loss", o.loss());
        o.loss().backward();
        fx.assertParamGradsClose(mae.namedParameters(), GRAD_RTOL, GRAD_ATOL);
    }

    /** The fixture's configuration: the Java record it names, or, for the ViT twins, their arguments as a {@link ViTConfig}. */
    private static Object configOf(ZooFixture fx) {
        return switch (fx.metadata.get("java_class")) {
            case "vit.VisionTransformer", "vit.ConvViT", "vit.EinsumViT", "bert.BertViT" -> vitConfig(fx.meta("config"));
            case "recurrent.RecurrentClassifier" -> fx.config(RecurrentConfig.class);
            case "mae.MaeClassifier" -> fx.config(MaeConfig.class);
            default -> throw new IllegalArgumentException(fx.name + ": unknown java_class " + fx.metadata.get("java_class"));
        };
    }

    /**
     * The arguments of a ViT twin of tools/fixtures/models.py (VisionTransformer, ConvViT, EinsumViT, BertViT; told
     * apart by their argument names) as the configuration of our one {@link VisionTransformer}.
     */
    static ViTConfig vitConfig(JsonNode j) {
        var b = ViTConfig.builder().imageSize(j.get("imageSize").asInt()).channels(j.get("channels").asInt())
                .patchSize(j.get("patchSize").asInt()).numClasses(j.get("numClasses").asInt());
        JsonNode bert = j.get("bert");
        if (bert != null) { // BertViT(image, channels, patch, classes, BertConfig): conv patches, cls token, BERT encoder, readout
            int d = bert.get("hiddenSize").asInt();
            ViTConfig c = b.dim(d).depth(bert.get("numHiddenLayers").asInt()).heads(bert.get("numAttentionHeads").asInt())
                    .mlpDim(bert.get("intermediateSize").asInt()).dropout(bert.get("hiddenDropoutProb").asDouble())
                    .patchEmbed(PatchEmbed.CONV).blocks(Blocks.BERT).norm(Norm.NONE).head(Head.READOUT, d).build();
            assertThat(bert.get("maxPositionEmbeddings").asInt()).as("BERT positions").isEqualTo(c.numTokens());
            return c;
        }
        b.dim(j.get("dim").asInt()).depth(j.get("depth").asInt()).heads(j.get("heads").asInt()).mlpDim(j.get("mlpDim").asInt())
                .dropout(j.get("dropout").asDouble());
        if (j.has("headHidden")) // EinsumViT: conv patches, class token last, einsum blocks, norm, MLP head on all tokens
            return b.patchEmbed(PatchEmbed.CONV).classToken(ClassToken.LAST).blocks(Blocks.EINSUM).norm(Norm.TOKENS).pooling(Pooling.ALL)
                    .head(Head.MLP, j.get("headHidden").asInt()).build();
        Pooling pooling = Pooling.of(j.get("pooling").asText());
        if (!j.has("patchNorm")) return b.pooling(pooling).normFirst(j.get("normFirst").asBoolean()).build(); // VisionTransformer
        // ConvViT: conv patches [+ norm], class token unless mean pooling, no final norm, linear head
        return b.patchEmbed(j.get("patchNorm").asBoolean() ? PatchEmbed.CONV_NORM : PatchEmbed.CONV).norm(Norm.NONE).pooling(pooling)
                .classToken(pooling == Pooling.MEAN ? ClassToken.NONE : ClassToken.FIRST).positions(Positions.of(j.get("positions").asText()))
                .window(j.get("window").asInt(), WindowedEncoderLayer.Impl.of(j.get("windowImpl").asText())).build();
    }

    private static void check(ZooFixture fx, ImageClassifier model) {
        model.loadStateDict(fx.params(), true);
        model.eval(); // the fixtures ran in eval mode (BERT's dropout off)
        Tensor logits = model.forward(fx.get("input.images"));
        fx.assertClose("output.logits", logits);
        logits.mul(fx.get("gradout.logits")).sum().backward();
        fx.assertParamGradsClose(model.namedParameters(), GRAD_RTOL, GRAD_ATOL);
        if (model instanceof MaeClassifier m) assertThat(m.encoderFrozen()).isFalse();
    }
}
