package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The tokenizer of a Hugging Face model folder, as {@code AutoTokenizer.from_pretrained(dir)}: {@code tokenizer.json}
 * when the folder has one; else a BERT WordPiece tokenizer from {@code vocab.txt} (lower-casing as
 * {@code tokenizer_config.json}'s {@code do_lower_case}, default true) or a GPT-2 byte-level BPE from
 * {@code vocab.json} + {@code merges.txt}, built as the {@code transformers} converters build them.
 */
public final class AutoTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AutoTokenizer() {}

    public static Tokenizer fromPretrained(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": not a directory (expected a model folder with tokenizer.json)");
        Path json = dir.resolve("tokenizer.json"), vocabTxt = dir.resolve("vocab.txt"), vocabJson = dir.resolve("vocab.json"),
                merges = dir.resolve("merges.txt");
        if (Files.isRegularFile(json)) return Tokenizer.load(json);
        JsonNode config = readConfig(dir.resolve("tokenizer_config.json"));
        try {
            if (Files.isRegularFile(vocabTxt)) return Tokenizer.fromJson(wordPiece(vocabTxt, config).toString());
            if (Files.isRegularFile(vocabJson) && Files.isRegularFile(merges)) return Tokenizer.fromJson(byteLevelBpe(vocabJson, merges).toString());
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(dir + ": no tokenizer: expected tokenizer.json, vocab.txt (WordPiece) or vocab.json + merges.txt (BPE)"
                + (Files.isRegularFile(vocabJson) ? "; merges.txt is missing" : "") + (Files.isRegularFile(merges) ? "; vocab.json is missing" : ""));
    }

    private static JsonNode readConfig(Path file) {
        if (!Files.isRegularFile(file)) return JSON.createObjectNode();
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** BertTokenizerFast's converter: BertNormalizer, BertPreTokenizer, WordPiece, [CLS] $A [SEP], the WordPiece decoder. */
    static ObjectNode wordPiece(Path vocabTxt, JsonNode config) throws IOException {
        List<String> lines = Files.readAllLines(vocabTxt, StandardCharsets.UTF_8);
        ObjectNode vocab = JSON.createObjectNode();
        for (int i = 0; i < lines.size(); i++) {
            vocab.put(lines.get(i), i); // a repeated token keeps its last line, as BertTokenizer.load_vocab
        }
        String unk = config.path("unk_token").asText("[UNK]"), cls = config.path("cls_token").asText("[CLS]"),
                sep = config.path("sep_token").asText("[SEP]"), pad = config.path("pad_token").asText("[PAD]"),
                mask = config.path("mask_token").asText("[MASK]");
        for (String s : List.of(unk, cls, sep))
            if (!vocab.has(s)) throw new IllegalArgumentException(vocabTxt + ": has no \"" + s + "\" token (needed as unk/cls/sep)");
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : List.of(pad, unk, cls, sep, mask)) {
            if (!vocab.has(s)) continue;
            added.addObject().put("id", vocab.get(s).intValue()).put("content", s).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true).put("handle_chinese_chars", true)
                .putNull("strip_accents").put("lowercase", config.path("do_lower_case").asBoolean(true));
        if (config.has("strip_accents") && !config.get("strip_accents").isNull())
            ((ObjectNode) root.get("normalizer")).put("strip_accents", config.get("strip_accents").asBoolean());
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode pp = root.putObject("post_processor");
        pp.put("type", "TemplateProcessing");
        ArrayNode single = pp.putArray("single"), pair = pp.putArray("pair");
        special(single, cls, 0); sequence(single, "A", 0); special(single, sep, 0);
        special(pair, cls, 0); sequence(pair, "A", 0); special(pair, sep, 0); sequence(pair, "B", 1); special(pair, sep, 1);
        ObjectNode st = pp.putObject("special_tokens");
        for (String s : List.of(cls, sep)) {
            ObjectNode o = st.putObject(s);
            o.put("id", s);
            o.putArray("ids").add(vocab.get(s).intValue());
            o.putArray("tokens").add(s);
        }
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", unk).put("continuing_subword_prefix", "##").put("max_input_chars_per_word", 100);
        model.set("vocab", vocab);
        return root;
    }

    private static void special(ArrayNode template, String token, int typeId) {
        template.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId);
    }

    private static void sequence(ArrayNode template, String id, int typeId) {
        template.addObject().putObject("Sequence").put("id", id).put("type_id", typeId);
    }

    /** GPT2TokenizerFast's converter: ByteLevel pre-tokenizer (no prefix space), BPE, ByteLevel decoder and post-processor. */
    static ObjectNode byteLevelBpe(Path vocabJson, Path mergesTxt) throws IOException {
        JsonNode vocab;
        try {
            vocab = JSON.readTree(vocabJson.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(vocabJson + ": not valid JSON: " + e.getMessage(), e);
        }
        if (vocab == null || !vocab.isObject()) throw new IllegalArgumentException(vocabJson + ": expected an object token -> id");
        ArrayNode merges = JSON.createArrayNode();
        List<String> lines = Files.readAllLines(mergesTxt, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank() || (i == 0 && l.startsWith("#version"))) continue;
            if (l.split(" ").length != 2) throw new IllegalArgumentException(mergesTxt + ": line " + (i + 1) + " is not two tokens: \"" + l + "\"");
            merges.add(l);
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        if (vocab.has("<|endoftext|>"))
            added.addObject().put("id", vocab.get("<|endoftext|>").intValue()).put("content", "<|endoftext|>").put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", true).put("special", true);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", false).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix").putNull("end_of_word_suffix")
                .put("fuse_unk", false).put("byte_fallback", false);
        model.set("vocab", vocab);
        model.set("merges", merges);
        return root;
    }
}
