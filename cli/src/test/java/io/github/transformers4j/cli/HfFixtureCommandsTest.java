package io.github.transformers4j.cli;

import static io.github.transformers4j.cli.T4jTest.t4j;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.ImageProcessor;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The folders that transformers' save_pretrained wrote (models/src/test/resources/fixtures/hf, see its README): their
 * tokenizers give the ids of the tokenizers library, loaded from tokenizer.json and from vocab.txt / vocab.json +
 * merges.txt alone; t4j generate continues as transformers' greedy search; t4j fill-mask ranks as transformers; the
 * image processor gives transformers' pixel values.
 */
class HfFixtureCommandsTest {
    static final Path DIR = Path.of("../models/src/test/resources/fixtures/hf");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static JsonNode meta(String name) throws Exception {
        try (SafeTensorsFile f = SafeTensors.read(DIR.resolve(name + ".expected.safetensors"))) {
            return JSON.readTree(f.metadata().get("json"));
        }
    }

    static void assertIds(Tokenizer tok, JsonNode meta, String what) {
        for (int i = 0; i < meta.get("texts").size(); i++) {
            String text = meta.get("texts").get(i).asText();
            assertThat(tok.encode(text, true)).as("%s: ids of '%s'", what, text).containsExactly(ints(meta.get("ids").get(i)));
            assertThat(tok.encode(text, false)).as("%s: ids of '%s' without special tokens", what, text)
                    .containsExactly(ints(meta.get("ids_no_special").get(i)));
        }
    }

    @Test
    void wordPieceAndByteLevelTokenizersGiveTheLibrarysIds() throws Exception {
        for (String name : List.of("bert-mlm", "gpt2")) {
            JsonNode m = meta(name);
            assertIds(AutoTokenizer.fromPretrained(DIR.resolve(name)), m, name + "/tokenizer.json");
            // the same folder without tokenizer.json: vocab.txt, or vocab.json + merges.txt
            Path copy = Files.createDirectories(tmp.resolve(name));
            for (String f : List.of("vocab.txt", "vocab.json", "merges.txt", "tokenizer_config.json"))
                if (Files.isRegularFile(DIR.resolve(name).resolve(f))) Files.copy(DIR.resolve(name).resolve(f), copy.resolve(f));
            assertIds(AutoTokenizer.fromPretrained(copy), m, name + " without tokenizer.json");
        }
    }

    @Test
    void generateContinuesAsTransformersGreedySearch() throws Exception {
        for (JsonNode g : meta("gpt2").get("generate")) {
            int n = g.get("greedy_ids").size() - g.get("prompt_ids").size();
            var r = t4j("generate", "--hf", DIR.resolve("gpt2").toString(), "--max-new-tokens", Integer.toString(n), g.get("prompt").asText());
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out().strip()).isEqualTo(g.get("greedy_text").asText().strip());
        }
    }

    @Test
    void fillMaskRanksAsTransformers() throws Exception {
        JsonNode fm = meta("bert-mlm").get("fill_mask");
        var r = t4j("fill-mask", "--hf", DIR.resolve("bert-mlm").toString(), "--json", fm.get("text").asText());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode out = JSON.readTree(r.out());
        for (int i = 0; i < 5; i++) {
            assertThat(out.get(i).get("token").asInt()).as("rank %d", i).isEqualTo(fm.get("top_ids").get(i).asInt());
            assertThat(out.get(i).get("score").asDouble()).isCloseTo(fm.get("top_scores").get(i).asDouble(), org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    @Test
    void theImageProcessorGivesTransformersPixelValues() throws Exception {
        Map<String, Tensor> t = SafeTensors.load(DIR.resolve("vit-cls.expected.safetensors"));
        ImageProcessor p = ImageProcessor.fromPretrained(DIR.resolve("vit-cls"), 32);
        // images stored HWC uint8: ours take CHW values 0..255
        for (String[] c : new String[][] {{"input.images", "input.pixel_values"}, {"input.image_big", "output.pixel_values_big"}}) {
            Tensor hwc = t.get(c[0]);
            int[] s = hwc.shape();
            boolean batch = s.length == 4;
            int b = batch ? s[0] : 1, h = s[batch ? 1 : 0], w = s[batch ? 2 : 1];
            float[] raw = hwc.to(io.github.transformers4j.tensor.DType.F32).toFloatArray(); // uint8 values
            List<Image> images = new java.util.ArrayList<>();
            for (int i = 0; i < b; i++) {
                float[] px = new float[3 * h * w];
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int ch = 0; ch < 3; ch++)
                    px[(ch * h + y) * w + x] = raw[((i * h + y) * w + x) * 3 + ch];
                images.add(new Image(px, 3, h, w));
            }
            float[] ours = p.preprocess(images).toFloatArray(), theirs = t.get(c[1]).toFloatArray();
            double max = 0;
            for (int i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i] - theirs[i]));
            // same size: exact up to float rounding; resized: PIL rounds to uint8 between passes (one level is 2/255 here)
            assertThat(max).as("%s: max |ours - transformers|", c[0]).isLessThanOrEqualTo(c[0].equals("input.images") ? 1e-6 : 2.0 / 255 + 1e-6);
        }
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }
}
