package io.github.transformers4j.models.hf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.models.gpt2.TextGeneration;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Our models against transformers on the folders {@code tools/fixtures/gen_hf.py} wrote with transformers'
 * {@code save_pretrained} (tiny random-weight BERT, GPT-2, ViT; see {@code fixtures/hf/README.md}): every hidden state,
 * attention map and logit within 1e-4 of transformers' (relative to the tensor's largest value), greedy continuations
 * identical. Nothing expected here comes from our code.
 */
class HfParityTest {
    static final Path DIR = Path.of("src/test/resources/fixtures/hf");
    static final double RTOL = 1e-4;

    record Expected(Map<String, Tensor> t, JsonNode meta) {
        static Expected of(String name) throws Exception {
            Path f = DIR.resolve(name + ".expected.safetensors");
            try (SafeTensorsFile file = SafeTensors.read(f)) {
                return new Expected(SafeTensors.load(f), new ObjectMapper().readTree(file.metadata().get("json")));
            }
        }

        Tensor get(String key) {
            Tensor x = t.get(key);
            assertThat(x).as("fixture tensor %s", key).isNotNull();
            return x;
        }
    }

    static double worst; // the largest max|diff| / max|value| seen, printed after the class
    static String worstWhat = "";

    @org.junit.jupiter.api.AfterAll
    static void report() {
        System.out.printf("HfParityTest: worst relative difference %.3g (%s)%n", worst, worstWhat);
    }

    /** max |ours - theirs| <= RTOL * max |theirs| (and shapes equal). */
    static void assertClose(String what, Tensor ours, Tensor theirs) {
        assertThat(ours.shape()).as(what + " shape").containsExactly(theirs.shape());
        float[] a = ours.contiguous().toFloatArray(), b = theirs.toFloatArray();
        double max = 0, diff = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(b[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        double rel = diff / Math.max(max, 1e-6);
        if (rel > worst) {
            worst = rel;
            worstWhat = what;
        }
        assertThat(diff).as("%s: max |diff| %.3g vs max |value| %.3g", what, diff, max).isLessThanOrEqualTo(RTOL * Math.max(max, 1e-6));
    }

    static void assertAll(Expected e, ModelOutput o, int layers) {
        if (e.t().containsKey("output.logits")) assertClose("logits", o.logits(), e.get("output.logits"));
        for (int i = 0; i <= layers; i++) assertClose("hidden_states." + i, o.hiddenStates().get(i), e.get("output.hidden_states." + i));
        for (int i = 0; i < layers; i++) assertClose("attentions." + i, o.attentions().get(i), e.get("output.attentions." + i));
    }

    @Test
    void bertForMaskedLMMatchesTransformers() throws Exception {
        Expected e = Expected.of("bert-mlm");
        var m = HfModels.bertForMaskedLM(DIR.resolve("bert-mlm"));
        try (var g = Grad.disabled()) {
            ModelOutput o = m.forward(e.get("input.input_ids"), e.get("input.attention_mask"), e.get("input.token_type_ids"), ModelOutput.Want.ALL);
            assertAll(e, o, 2);
            // fill-mask: the top-5 tokens at the mask, in transformers' order
            JsonNode fm = e.meta().get("fill_mask");
            long[] ids = new long[fm.get("ids").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = fm.get("ids").get(i).asLong();
            Tensor probs = m.forward(Tensor.ofLongs(ids, 1, ids.length), null, null, ModelOutput.Want.NONE).logits()
                    .select(1, fm.get("position").asInt()).softmax(-1);
            float[] p = probs.toFloatArray();
            Integer[] order = new Integer[p.length];
            for (int i = 0; i < p.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(p[b], p[a]));
            for (int r = 0; r < 5; r++) {
                assertThat(order[r]).as("fill-mask rank %d", r).isEqualTo(fm.get("top_ids").get(r).asInt());
                assertThat((double) p[order[r]]).isCloseTo(fm.get("top_scores").get(r).asDouble(), org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    @Test
    void bertForSequenceClassificationAndBertModelMatchTransformers() throws Exception {
        Expected e = Expected.of("bert-cls");
        Path d = DIR.resolve("bert-cls");
        var m = HfModels.bertForSequenceClassification(d, null);
        assertThat(m.labels).containsExactly("negative", "neutral", "positive");
        try (var g = Grad.disabled()) {
            assertAll(e, m.forward(e.get("input.input_ids"), e.get("input.attention_mask"), null, ModelOutput.Want.ALL), 2);
            ModelOutput b = HfModels.bertModel(d).forward(e.get("input.input_ids"), e.get("input.attention_mask"), null, ModelOutput.Want.NONE);
            assertClose("last_hidden_state", b.lastHiddenState(), e.get("output.last_hidden_state"));
            assertClose("pooler_output", b.poolerOutput(), e.get("output.pooler_output"));
        }
    }

    @Test
    void gpt2FromShardedSafetensorsMatchesTransformersAndContinuesTheSame() throws Exception {
        Expected e = Expected.of("gpt2");
        GPT2LMHeadModel m = HfModels.gpt2LMHeadModel(DIR.resolve("gpt2"));
        try (var g = Grad.disabled()) {
            assertAll(e, m.forward(e.get("input.input_ids"), e.get("input.attention_mask"), null, ModelOutput.Want.ALL), 2);
        }
        for (JsonNode gen : e.meta().get("generate")) {
            int[] prompt = ints(gen.get("prompt_ids"));
            int[] greedy = ints(gen.get("greedy_ids"));
            int eos = m.config().eosTokenId();
            int[] ours = TextGeneration.generate(m, prompt, TextGeneration.Config.greedy(greedy.length - prompt.length, eos));
            assertThat(ours).as("greedy continuation of '%s' (min top-1/top-2 margin %s)", gen.get("prompt").asText(),
                    gen.get("greedy_min_margin").asText()).containsExactly(Arrays.copyOfRange(greedy, prompt.length, greedy.length));
            int[] beam = ints(gen.get("beam3_ids"));
            int[] oursBeam = TextGeneration.generate(m, prompt, TextGeneration.Config.beam(3, 12, eos));
            assertThat(oursBeam).as("3-beam continuation of '%s'", gen.get("prompt").asText())
                    .containsExactly(Arrays.copyOfRange(beam, prompt.length, beam.length));
        }
    }

    @Test
    void vitForImageClassificationMatchesTransformers() throws Exception {
        Expected e = Expected.of("vit-cls");
        var m = HfModels.vitForImageClassification(DIR.resolve("vit-cls"), null);
        assertThat(m.labels).containsExactly("cat", "dog", "bird", "fish", "frog");
        try (var g = Grad.disabled()) {
            assertAll(e, m.forward(e.get("input.pixel_values"), ModelOutput.Want.ALL), 2);
        }
    }

    @Test
    void vitModelFromABf16CheckpointMatchesTransformers() throws Exception {
        Expected e = Expected.of("vit-model");
        var m = HfModels.vitModel(DIR.resolve("vit-model"));
        try (var g = Grad.disabled()) {
            ModelOutput o = m.forward(e.get("input.pixel_values"), ModelOutput.Want.ALL);
            assertAll(e, o, 2);
            assertClose("last_hidden_state", o.lastHiddenState(), e.get("output.last_hidden_state"));
            assertClose("pooler_output", o.poolerOutput(), e.get("output.pooler_output"));
        }
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }
}
