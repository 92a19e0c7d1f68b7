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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer, implemented in Java: added tokens, normalizer, pre-tokenizer,
 * model (BPE, WordPiece, Unigram, WordLevel), post-processor and decoder, with the library's semantics (checked
 * against the library itself in the tests). {@link #encode} gives the same ids as the library's
 * {@code encode(text, add_special_tokens)} for single sequences; offsets, pairs, truncation and padding settings of
 * the file are not implemented (the {@code Seq2SeqCollator} truncates and pads).
 *
 * <p>Unknown characters: byte-level BPE (what {@code t4j tokenizer train} writes) covers every string with its 256
 * byte symbols, so nothing is ever unknown. Other models map what their vocabulary lacks to their unknown token
 * (or to {@code <0xXX>} byte tokens with {@code byte_fallback}), as the library does.
 *
 * <p>Thread-safe for encoding and decoding.
 */
public final class Tokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<AddedToken> addedTokens;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final Model model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final Map<String, AddedToken> addedByContent = new HashMap<>();

    public Tokenizer(List<AddedToken> addedTokens, Normalizer normalizer, PreTokenizer preTokenizer, Model model,
                     PostProcessor postProcessor, Decoder decoder) {
        this.addedTokens = List.copyOf(addedTokens);
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        for (AddedToken t : addedTokens) {
            addedById.put(t.id(), t);
            addedByContent.put(t.content(), t);
        }
    }

    // ---------------------------------------------------------------------------------------------- JSON

    public static Tokenizer load(Path file) {
        try {
            return fromJson(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static Tokenizer fromJson(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("tokenizer.json: not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.has("model")) throw new IllegalArgumentException("tokenizer.json: no \"model\" field");
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) added.add(AddedToken.fromJson(t));
        return new Tokenizer(added, Normalizer.fromJson(root.get("normalizer")), PreTokenizer.fromJson(root.get("pre_tokenizer")),
                Model.fromJson(root.get("model")), PostProcessor.fromJson(root.get("post_processor")), Decoder.fromJson(root.get("decoder")));
    }

    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode a = root.putArray("added_tokens");
        addedTokens.forEach(t -> a.add(t.toJson()));
        root.set("normalizer", normalizer == null ? null : normalizer.toJson());
        root.set("pre_tokenizer", preTokenizer == null ? null : preTokenizer.toJson());
        root.set("post_processor", postProcessor == null ? null : postProcessor.toJson());
        root.set("decoder", decoder == null ? null : decoder.toJson());
        root.set("model", model.toJson());
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void save(Path file) {
        try {
            if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, toJson() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------- encoding

    /** Token ids of {@code text}, with the post-processor's special tokens (e.g. a trailing {@code </s>}). */
    public int[] encode(String text) {
        return encode(text, true);
    }

    public int[] encode(String text, boolean addSpecialTokens) {
        List<Integer> ids = new ArrayList<>();
        List<Section> raw = splitAdded(text, false, true);
        for (Section s : raw) {
            if (s.token != null) {
                ids.add(s.token.id());
                continue;
            }
            String n = normalizer == null ? s.text : normalizer.normalize(s.text);
            for (Section t : splitAdded(n, true, s.first)) {
                if (t.token != null) {
                    ids.add(t.token.id());
                    continue;
                }
                if (t.text.isEmpty()) continue;
                List<String> pieces = preTokenizer == null ? List.of(t.text) : preTokenizer.split(List.of(t.text), t.first);
                for (String p : pieces) for (int id : model.tokenize(p)) ids.add(id);
            }
        }
        int[] out = ids.stream().mapToInt(Integer::intValue).toArray();
        return addSpecialTokens && postProcessor != null ? postProcessor.process(out) : out;
    }

    /** The token strings of {@code text} (as the library's {@code Encoding.tokens}). */
    public List<String> tokenize(String text, boolean addSpecialTokens) {
        List<String> out = new ArrayList<>();
        for (int id : encode(text, addSpecialTokens)) out.add(idToToken(id));
        return out;
    }

    private record Section(String text, AddedToken token, boolean first) {}

    /** Cuts text at added tokens (those with normalized == {@code normalized}), leftmost-longest. */
    private List<Section> splitAdded(String text, boolean normalized, boolean startsInput) {
        List<AddedToken> cands = new ArrayList<>();
        for (AddedToken t : addedTokens) if (t.normalized() == normalized && !t.content().isEmpty()) cands.add(t);
        List<Section> out = new ArrayList<>();
        if (cands.isEmpty()) {
            out.add(new Section(text, null, startsInput));
            return out;
        }
        int last = 0;
        for (int i = 0; i < text.length(); ) {
            AddedToken best = null;
            for (AddedToken t : cands) {
                String c = normalized && normalizer != null ? normalizer.normalize(t.content()) : t.content();
                if (text.startsWith(c, i) && (best == null || c.length() > best.content().length()) && wordOk(t, text, i, i + c.length())) best = t;
            }
            if (best == null) {
                i++;
                continue;
            }
            int start = i, end = i + (normalized && normalizer != null ? normalizer.normalize(best.content()) : best.content()).length();
            if (best.lstrip()) while (start > last && Text.isWhitespace(text.charAt(start - 1))) start--;
            if (best.rstrip()) while (end < text.length() && Text.isWhitespace(text.charAt(end))) end++;
            if (start > last) out.add(new Section(text.substring(last, start), null, last == 0 && startsInput));
            out.add(new Section(null, best, false));
            last = i = end;
        }
        if (last < text.length()) out.add(new Section(text.substring(last), null, last == 0 && startsInput));
        return out;
    }

    private static boolean wordOk(AddedToken t, String s, int start, int end) {
        if (!t.singleWord()) return true;
        boolean before = start == 0 || !isWordChar(s.codePointBefore(start));
        boolean after = end == s.length() || !isWordChar(s.codePointAt(end));
        return before && after;
    }

    private static boolean isWordChar(int c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    // ---------------------------------------------------------------------------------------------- decoding

    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /** Text of the ids; with {@code skipSpecialTokens} special added tokens (pad, EOS, ...) are left out. Unknown ids are skipped. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>();
        for (int id : ids) {
            AddedToken a = addedById.get(id);
            if (a != null) {
                if (!(skipSpecialTokens && a.special())) tokens.add(a.content());
                continue;
            }
            String t = model.idToToken(id);
            if (t != null) tokens.add(t);
        }
        if (decoder == null) return String.join(" ", tokens);
        return String.join("", decoder.decodeChain(tokens));
    }

    // ---------------------------------------------------------------------------------------------- vocabulary

    public String idToToken(int id) {
        AddedToken a = addedById.get(id);
        return a != null ? a.content() : model.idToToken(id);
    }

    /** The id of a token (added tokens first), or null. */
    public Integer tokenToId(String token) {
        AddedToken a = addedByContent.get(token);
        return a != null ? Integer.valueOf(a.id()) : model.tokenToId(token);
    }

    /** Size of the id space: one more than the largest id of the model and the added tokens. */
    public int vocabSize() {
        int max = model.vocabSize() - 1;
        for (AddedToken t : addedTokens) max = Math.max(max, t.id());
        return max + 1;
    }

    public Model model() {
        return model;
    }

    public List<AddedToken> addedTokens() {
        return addedTokens;
    }

    /** The id of the first of {@code names} that exists, or -1. */
    public int findId(String... names) {
        for (String n : names) {
            Integer id = tokenToId(n);
            if (id != null) return id;
        }
        return -1;
    }

    /** The padding id: {@code <pad>}, {@code [PAD]} or {@code <|pad|>}; -1 if none. */
    public int padId() {
        return findId("<pad>", "[PAD]", "<|pad|>");
    }

    /** The end-of-sequence id: {@code </s>}, {@code <eos>}, {@code <|endoftext|>} or {@code [SEP]}; -1 if none. */
    public int eosId() {
        return findId("</s>", "<eos>", "<|endoftext|>", "[SEP]");
    }

    public int unkId() {
        return findId("<unk>", "[UNK]", "<|unk|>");
    }
}
