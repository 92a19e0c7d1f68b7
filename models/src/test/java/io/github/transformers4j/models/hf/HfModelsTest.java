package io.github.transformers4j.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.bert.BertConfig;
import io.github.transformers4j.models.bert.BertForMaskedLM;
import io.github.transformers4j.models.bert.BertForSequenceClassification;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.models.gpt2.GPT2Config;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.models.gpt2.GPT2Model;
import io.github.transformers4j.models.vit.ViTForImageClassification;
import io.github.transformers4j.models.vit.ViTModel;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * save_pretrained / from_pretrained round trips, the key variants real checkpoints use, and the errors for bad folders.
 * Parity with transformers itself is {@code HfParityTest} (fixtures written by transformers).
 */
class HfModelsTest {
    @TempDir
    Path dir;

    static final BertConfig BERT = new BertConfig(50, 16, 2, 4, 32, Activation.GELU, 0, 0, 24, 2, 1e-12, 0.02, 0);
    static final GPT2Config GPT2 = new GPT2Config(60, 32, 16, 2, 4, 64, Activation.GELU_TANH, 0, 0, 0, 1e-5, 0.02, true, false, 59, 59);
    static final ViTModel.Config VIT = new ViTModel.Config(16, 2, 4, 32, Activation.GELU, 0, 0, 0.02, 1e-12, 16, 4, 3, true);

    static Tensor ids(int b, int l, int vocab, long seed) {
        long[] x = new long[b * l];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) x[i] = r.nextInt(vocab);
        return Tensor.ofLongs(x, b, l);
    }

    static void assertSame(Tensor a, Tensor b) {
        assertThat(a.shape()).containsExactly(b.shape());
        assertThat(a.toFloatArray()).containsExactly(b.toFloatArray());
    }

    @Test
    void bertForSequenceClassificationRoundTrips() {
        var m = new BertForSequenceClassification(BERT, List.of("neg", "pos", "mixed"), null, new Random4j(1));
        m.eval();
        Tensor x = ids(2, 7, 50, 2), mask = Tensor.ofLongs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, 2, 7);
        Tensor logits = m.forward(x, mask, null, ModelOutput.Want.NONE).logits();
        HfModels.savePretrained(m, dir, null);
        var back = HfModels.bertForSequenceClassification(dir, null);
        assertThat(back.labels).containsExactly("neg", "pos", "mixed");
        assertSame(back.forward(x, mask, null, ModelOutput.Want.NONE).logits(), logits);
        // the base model from the same folder: bert.* without the prefix, the classifier reported unused
        BertModel base = HfModels.bertModel(dir);
        assertThat(base.pooler).isNotNull();
        assertSame(base.forward(x, mask, null, ModelOutput.Want.NONE).poolerOutput(),
                back.bert.forward(x, mask, null, ModelOutput.Want.NONE).poolerOutput());
        // fine-tuning on other labels: a new classifier, the encoder kept
        var tuned = HfModels.bertForSequenceClassification(dir, List.of("a", "b"));
        assertThat(tuned.classifier.weight.shape()).containsExactly(2, 16);
        assertSame(tuned.bert.embeddings.wordEmbeddings.weight.data(), m.bert.embeddings.wordEmbeddings.weight.data());
    }

    @Test
    void bertForMaskedLMTiesItsDecoderToTheWordEmbeddings() throws Exception {
        var m = new BertForMaskedLM(BERT, new Random4j(3));
        m.eval();
        Tensor x = ids(1, 5, 50, 4);
        Tensor logits = m.forward(x, null, null, ModelOutput.Want.NONE).logits();
        assertThat(logits.shape()).containsExactly(1, 5, 50);
        HfModels.savePretrained(m, dir, null);
        assertThat(SafeTensors.load(dir.resolve("model.safetensors")).keySet())
                .contains("bert.embeddings.word_embeddings.weight", "cls.predictions.bias", "cls.predictions.transform.dense.weight")
                .doesNotContain("cls.predictions.decoder.weight");
        assertSame(HfModels.bertForMaskedLM(dir).forward(x, null, null, ModelOutput.Want.NONE).logits(), logits);
    }

    @Test
    void oldBertCheckpointsWithGammaBetaAndPositionIdsLoad() throws Exception {
        var m = new BertModel(BERT, true, new Random4j(5));
        m.eval();
        HfModels.savePretrained(m, dir, null);
        LinkedHashMap<String, Tensor> old = new LinkedHashMap<>();
        SafeTensors.load(dir.resolve("model.safetensors")).forEach((k, t) -> old.put("bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma")
                .replace("LayerNorm.bias", "LayerNorm.beta"), t));
        old.put("bert.embeddings.position_ids", Tensor.ofLongs(new long[24], 1, 24));
        SafeTensors.save(dir.resolve("model.safetensors"), old, Map.of("format", "pt"));
        Tensor x = ids(1, 6, 50, 6);
        assertSame(HfModels.bertModel(dir).forward(x, null, null, ModelOutput.Want.NONE).lastHiddenState(),
                m.forward(x, null, null, ModelOutput.Want.NONE).lastHiddenState());
    }

    @Test
    void gpt2RoundTripsAndLoadsTheHubLayoutWithoutPrefixAndWithMaskBuffers() throws Exception {
        var m = new GPT2LMHeadModel(GPT2, new Random4j(7));
        m.eval();
        Tensor x = ids(2, 9, 60, 8);
        Tensor logits = m.forward(x, null, null, ModelOutput.Want.NONE).logits();
        HfModels.savePretrained(m, dir, null);
        assertSame(GPT2LMHeadModel.fromPretrained(dir).forward(x, null, null, ModelOutput.Want.NONE).logits(), logits);
        // the "gpt2" repository's layout: h.0.attn.c_attn.weight (no "transformer."), causal-mask buffers attn.bias
        LinkedHashMap<String, Tensor> hub = new LinkedHashMap<>();
        SafeTensors.load(dir.resolve("model.safetensors")).forEach((k, t) -> hub.put(k.substring("transformer.".length()), t));
        hub.put("h.0.attn.bias", Tensor.ones(1, 1, 32, 32));
        hub.put("h.1.attn.bias", Tensor.ones(1, 1, 32, 32));
        SafeTensors.save(dir.resolve("model.safetensors"), hub, Map.of("format", "pt"));
        assertSame(HfModels.gpt2LMHeadModel(dir).forward(x, null, null, ModelOutput.Want.NONE).logits(), logits);
        assertSame(HfModels.gpt2Model(dir).forward(x, null, null, ModelOutput.Want.NONE).lastHiddenState(),
                m.transformer.forward(x, null, null, ModelOutput.Want.NONE).lastHiddenState());
    }

    @Test
    void gpt2WithACacheGivesTheLogitsOfTheWholeSequence() {
        var m = new GPT2LMHeadModel(GPT2, new Random4j(9));
        m.eval();
        Tensor x = ids(2, 8, 60, 10);
        float[] full = m.forward(x, null, null, ModelOutput.Want.NONE).logits().toFloatArray();
        try (var cache = m.transformer.newCache()) {
            Tensor a = m.forward(x.narrow(1, 0, 3).contiguous(), null, cache, ModelOutput.Want.NONE).logits();
            Tensor b = m.forward(x.narrow(1, 3, 2).contiguous(), null, cache, ModelOutput.Want.NONE).logits();
            Tensor c = m.forward(x.narrow(1, 5, 3).contiguous(), null, cache, ModelOutput.Want.NONE).logits();
            float[] inc = Tensor.cat(List.of(a, b, c), 1).toFloatArray();
            for (int i = 0; i < full.length; i++) assertThat((double) inc[i]).isCloseTo(full[i], org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void attentionWeightsAreRowStochasticAndCausal() {
        var m = new GPT2Model(GPT2, new Random4j(11));
        m.eval();
        ModelOutput o = m.forward(ids(1, 5, 60, 12), null, null, ModelOutput.Want.ALL);
        assertThat(o.hiddenStates()).hasSize(3);
        assertThat(o.attentions()).hasSize(2);
        Tensor a = o.attentions().get(1); // (1, H, 5, 5)
        assertThat(a.shape()).containsExactly(1, 4, 5, 5);
        float[] w = a.toFloatArray();
        for (int h = 0; h < 4; h++)
            for (int i = 0; i < 5; i++) {
                double sum = 0;
                for (int j = 0; j < 5; j++) {
                    float v = w[(h * 5 + i) * 5 + j];
                    if (j > i) assertThat(v).isZero();
                    sum += v;
                }
                assertThat(sum).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-5));
            }
    }

    @Test
    void vitRoundTripsAndBf16CheckpointsLoadAsFp32() throws Exception {
        var m = new ViTForImageClassification(VIT, List.of("a", "b", "c"), new Random4j(13));
        m.eval();
        Tensor px = Tensor.randn(new Random4j(14), 2, 3, 16, 16);
        Tensor logits = m.forward(px, ModelOutput.Want.NONE).logits();
        HfModels.savePretrained(m, dir, null);
        assertSame(HfModels.vitForImageClassification(dir, null).forward(px, ModelOutput.Want.NONE).logits(), logits);
        // the same weights stored in bf16: loaded as fp32 holding the bf16-rounded values
        LinkedHashMap<String, Tensor> bf16 = new LinkedHashMap<>();
        SafeTensors.load(dir.resolve("model.safetensors")).forEach((k, t) -> bf16.put(k, t.to(DType.BF16)));
        SafeTensors.save(dir.resolve("model.safetensors"), bf16, Map.of("format", "pt"));
        var back = HfModels.vitForImageClassification(dir, null);
        assertThat(back.classifier.weight.data().dtype()).isEqualTo(DType.F32);
        assertThat(back.classifier.weight.data().toFloatArray()).containsExactly(m.classifier.weight.data().to(DType.BF16).to(DType.F32).toFloatArray());
        ViTModel base = HfModels.vitModel(dir);
        assertThat(base.pooler).isNull();
        assertThat(base.forward(px, ModelOutput.Want.ALL).attentions()).hasSize(2);
    }

    @Test
    void shardedCheckpointsLoad() throws Exception {
        var m = new GPT2LMHeadModel(GPT2, new Random4j(15));
        m.eval();
        HfModels.savePretrained(m, dir, null);
        Map<String, Tensor> all = SafeTensors.load(dir.resolve("model.safetensors"));
        LinkedHashMap<String, Tensor> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        StringBuilder map = new StringBuilder();
        int i = 0;
        for (var e : all.entrySet()) {
            String shard = i++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            (shard.contains("00001-of") ? a : b).put(e.getKey(), e.getValue());
            map.append(map.isEmpty() ? "" : ",").append('"').append(e.getKey()).append("\":\"").append(shard).append('"');
        }
        SafeTensors.save(dir.resolve("model-00001-of-00002.safetensors"), a, Map.of("format", "pt"));
        SafeTensors.save(dir.resolve("model-00002-of-00002.safetensors"), b, Map.of("format", "pt"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
        Files.delete(dir.resolve("model.safetensors"));
        Tensor x = ids(1, 4, 60, 16);
        assertSame(HfModels.gpt2LMHeadModel(dir).forward(x, null, null, ModelOutput.Want.NONE).logits(),
                m.forward(x, null, null, ModelOutput.Want.NONE).logits());
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertThatThrownBy(() -> HfModels.gpt2LMHeadModel(dir)).hasMessageContaining("model.safetensors.index.json")
                .hasMessageContaining("model-00002-of-00002.safetensors");
    }

    @Test
    void badFoldersGiveErrorsThatNameTheFileAndKey() throws Exception {
        assertThatThrownBy(() -> HfModels.bertModel(dir.resolve("missing"))).hasMessageContaining("not a directory");
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining(dir.resolve("config.json").toString()).hasMessageContaining("missing");
        var m = new BertModel(BERT, true, new Random4j(17));
        HfModels.savePretrained(m, dir, null);
        // a config of another architecture
        Path cfg = dir.resolve("config.json");
        String json = Files.readString(cfg);
        Files.writeString(cfg, json.replace("\"model_type\" : \"bert\"", "\"model_type\" : \"t5\""));
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("config.json").hasMessageContaining("\"t5\"");
        Files.writeString(cfg, json.replace("\"position_embedding_type\" : \"absolute\"", "\"position_embedding_type\" : \"relative_key\""));
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("position_embedding_type").hasMessageContaining("relative_key");
        // weights that do not match the config
        Files.writeString(cfg, json.replace("\"intermediate_size\" : 32", "\"intermediate_size\" : 48"));
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("model.safetensors")
                .hasMessageContaining("encoder.layer.0.intermediate.dense.weight").hasMessageContaining("[32, 16]").hasMessageContaining("[48, 16]");
        Files.writeString(cfg, json.replace("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 3"));
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("lacks").hasMessageContaining("encoder.layer.2.");
        Files.writeString(cfg, "{\"model_type\": ");
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("config.json").hasMessageContaining("not valid JSON");
        Files.writeString(cfg, json);
        // a corrupt or missing weights file
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("model.safetensors");
        Files.delete(dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("model.safetensors").hasMessageContaining("no weights");
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1});
        assertThatThrownBy(() -> HfModels.bertModel(dir)).hasMessageContaining("pytorch_model.bin").hasMessageContaining("safetensors");
    }
}
