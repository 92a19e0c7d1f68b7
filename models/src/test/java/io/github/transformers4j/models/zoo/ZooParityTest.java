package io.github.transformers4j.models.zoo;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.bert.BertViT;
import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.mae.Masking;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.models.recurrent.RecurrentConfig;
import io.github.transformers4j.models.vit.ConvViT;
import io.github.transformers4j.models.vit.ConvViTConfig;
import io.github.transformers4j.models.vit.EinsumViTConfig;
import io.github.transformers4j.models.vit.SinCos;
import io.github.transformers4j.models.vit.ViTConfig;
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
            "vit_tiny_p4, vit.ViTConfig",
            "vit_conv_p16, vit.ConvViTConfig",
            "vit_sincos_p8, vit.ConvViTConfig",
            "vit_window, vit.ConvViTConfig",
            "vit_einsum_p16, vit.EinsumViTConfig",
            "vit_bert12_p4, bert.BertViT$Config",
            "gru_p16, recurrent.RecurrentConfig",
            "lstm_p16, recurrent.RecurrentConfig",
            "rnn_p16, recurrent.RecurrentConfig",
            "mae_tiny_classifier, mae.MaeConfig"})
    void classifierMatchesPyTorch(String name, String configClass) throws Exception {
        ZooFixture fx = ZooFixture.load(name);
        Record config = (Record) fx.config(Class.forName("io.github.transformers4j.models." + configClass));
        ImageClassifier model = ModelZoo.create(config, new Random4j(0));
        assertThat(model.getClass().getName()).isEqualTo("io.github.transformers4j.models." + fx.metadata.get("java_class"));
        check(fx, model);
    }

    @Test
    void windowedAttentionBlockedKernelMatchesPyTorchsMaskedAttention() {
        ZooFixture fx = ZooFixture.load("vit_window");
        ConvViTConfig c = fx.config(ConvViTConfig.class);
        assertThat(c.window()).isEqualTo(3);
        check(fx, new ConvViT(c.withWindow(3, io.github.transformers4j.models.attention.WindowedEncoderLayer.Impl.BLOCKED), new Random4j(0)));
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
        assertThat(new ConvViT(fx.config(ConvViTConfig.class), new Random4j(0)).numParameters())
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

    private static Object configOf(ZooFixture fx) {
        return switch (fx.metadata.get("java_class")) {
            case "vit.VisionTransformer" -> fx.config(ViTConfig.class);
            case "vit.ConvViT" -> fx.config(ConvViTConfig.class);
            case "vit.EinsumViT" -> fx.config(EinsumViTConfig.class);
            case "bert.BertViT" -> fx.config(BertViT.Config.class);
            case "recurrent.RecurrentClassifier" -> fx.config(RecurrentConfig.class);
            case "mae.MaeClassifier" -> fx.config(MaeConfig.class);
            default -> throw new IllegalArgumentException(fx.name + ": unknown java_class " + fx.metadata.get("java_class"));
        };
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
