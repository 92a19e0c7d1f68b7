package io.github.transformers4j.data.text.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Folders without tokenizer.json (only vocab.txt, or vocab.json + merges.txt) give the tokenizer that the library gives
 * for the equivalent tokenizer.json; the library (through DJL) is the reference.
 */
class AutoTokenizerTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void vocabTxtGivesBertsWordPieceTokenizer() throws Exception {
        // the reference: the parity test's WordPiece file with the converter's settings (100 chars a word, plain [MASK])
        String ref = TokenizerParityTest.WORDPIECE.replace("\"max_input_chars_per_word\":12", "\"max_input_chars_per_word\":100")
                .replace("\"content\":\"[MASK]\",\"single_word\":false,\"lstrip\":true", "\"content\":\"[MASK]\",\"single_word\":false,\"lstrip\":false");
        Path refFile = dir.resolve("reference.json");
        Files.writeString(refFile, ref);
        JsonNode vocab = JSON.readTree(ref).get("model").get("vocab");
        TreeMap<Integer, String> byId = new TreeMap<>();
        vocab.fields().forEachRemaining(e -> byId.put(e.getValue().intValue(), e.getKey()));
        Path folder = Files.createDirectories(dir.resolve("bert"));
        Files.write(folder.resolve("vocab.txt"), byId.values());
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"do_lower_case\": true, \"tokenizer_class\": \"BertTokenizer\"}");
        assertSameIds(AutoTokenizer.fromPretrained(folder), refFile, TokenizerParityTest.PROBES);
        assertSameIds(AutoTokenizer.fromPretrained(folder), refFile, List.of("a [MASK] is free", "[CLS] the [SEP] data [PAD]"));
    }

    @Test
    void vocabJsonAndMergesGiveGpt2sByteLevelTokenizer() throws Exception {
        BpeTrainer t = new BpeTrainer(3 + 256 + 200, 2);
        for (int i = 0; i < 3; i++) TokenizerParityTest.CORPUS.forEach(t::feed);
        ObjectNode root = (ObjectNode) JSON.readTree(t.train().toJson());
        JsonNode model = root.get("model");
        Path folder = Files.createDirectories(dir.resolve("gpt2"));
        Files.writeString(folder.resolve("vocab.json"), model.get("vocab").toString());
        List<String> merges = new ArrayList<>(List.of("#version: 0.2"));
        for (JsonNode m : model.get("merges")) merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        Files.write(folder.resolve("merges.txt"), merges);
        // the reference: the same vocabulary and merges laid out as GPT2TokenizerFast's converter does
        root.putArray("added_tokens");
        root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", false).put("use_regex", true);
        Path refFile = dir.resolve("reference.json");
        Files.writeString(refFile, root.toString());
        assertSameIds(AutoTokenizer.fromPretrained(folder), refFile, TokenizerParityTest.PROBES);
    }

    @Test
    void pairsGetThePairTemplateAndTokenTypesOfTheLibrary() throws Exception {
        Path f = dir.resolve("wordpiece.json");
        Files.writeString(f, TokenizerParityTest.WORDPIECE);
        Tokenizer ours = Tokenizer.load(f);
        List<String[]> pairs = List.of(new String[] {"the library packages", "free open source data"}, new String[] {"a game", ""},
                new String[] {"", "cafe resume"}, new String[] {"Naïve café", "don't x"});
        try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.builder().optTokenizerPath(f).optTruncation(false).build()) {
            for (String[] p : pairs) {
                for (boolean special : new boolean[] {true, false}) {
                    var enc = ref.encode(p[0], p[1], special, false);
                    var mine = ours.encodePair(p[0], p[1], special);
                    assertThat(mine.ids()).as("ids of %s (special %s)", Arrays.toString(p), special)
                            .containsExactly(Arrays.stream(enc.getIds()).mapToInt(x -> (int) x).toArray());
                    assertThat(mine.typeIds()).as("type ids of %s (special %s)", Arrays.toString(p), special)
                            .containsExactly(Arrays.stream(enc.getTypeIds()).mapToInt(x -> (int) x).toArray());
                }
            }
        }
    }

    @Test
    void pairsTruncateLongestFirstAsTheLibrary() throws Exception {
        Path f = dir.resolve("wordpiece.json");
        Files.writeString(f, TokenizerParityTest.WORDPIECE);
        Tokenizer ours = Tokenizer.load(f);
        List<String[]> pairs = List.of(new String[] {"a a a a a a", "d d"}, new String[] {"a a a", "d d d"}, new String[] {"a a a a", "d d d"},
                new String[] {"a a a", "d d d d"}, new String[] {"a a a a a", "d d d d d d"}, new String[] {"the library packages data", "x"});
        for (int max : new int[] {5, 7, 8, 9, 10, 12}) {
            try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.builder().optTokenizerPath(f).optTruncation(true).optMaxLength(max).build()) {
                for (String[] p : pairs) {
                    var enc = ref.encode(p[0], p[1], true, false);
                    var mine = ours.encodePair(p[0], p[1], true, max);
                    assertThat(mine.ids()).as("%s, max %d", Arrays.toString(p), max)
                            .containsExactly(Arrays.stream(enc.getIds()).mapToInt(x -> (int) x).toArray());
                    assertThat(mine.typeIds()).containsExactly(Arrays.stream(enc.getTypeIds()).mapToInt(x -> (int) x).toArray());
                }
            }
        }
    }

    @Test
    void aFolderWithoutATokenizerSaysWhatItLooksFor() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> AutoTokenizer.fromPretrained(folder)).hasMessageContaining(folder.toString())
                .hasMessageContaining("tokenizer.json").hasMessageContaining("vocab.txt");
        Files.writeString(folder.resolve("vocab.json"), "{}");
        assertThatThrownBy(() -> AutoTokenizer.fromPretrained(folder)).hasMessageContaining("merges.txt is missing");
        Files.writeString(folder.resolve("tokenizer.json"), "{not json");
        assertThatThrownBy(() -> AutoTokenizer.fromPretrained(folder)).hasMessageContaining("tokenizer.json");
        assertThatThrownBy(() -> AutoTokenizer.fromPretrained(dir.resolve("nowhere"))).hasMessageContaining("not a directory");
    }

    private static void assertSameIds(Tokenizer ours, Path reference, List<String> probes) throws Exception {
        try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.builder().optTokenizerPath(reference).optTruncation(false).build()) {
            for (String text : probes) {
                int[] expected = Arrays.stream(ref.encode(text, true, false).getIds()).mapToInt(x -> (int) x).toArray();
                assertThat(ours.encode(text, true)).as("ids of '%s'", text).containsExactly(expected);
            }
        }
    }
}
