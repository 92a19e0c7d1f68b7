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
    private final Trie rawAdded = new Trie(), normalizedAdded = new Trie(); // matched before / after normalizing

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
            if (!t.normalized()) rawAdded.add(t.content(), t);
            else normalizedAdded.add(normalizer == null ? t.content() : normalizer.normalize(t.content()), t);
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
        Model model = Model.fromJson(root.get("model"));
        // As the library: an added token takes the id of its content in the model, or else the next id after the
        // model's; the "id" in the file is not used (files the library writes agree with this).
        Map<String, Integer> ids = new HashMap<>();
        Map<Integer, AddedToken> added = new java.util.LinkedHashMap<>();
        int next = model.vocabSize();
        for (JsonNode t : root.path("added_tokens")) {
            AddedToken a = AddedToken.fromJson(t);
            if (a.content().isEmpty()) continue;
            Integer id = ids.containsKey(a.content()) ? ids.get(a.content()) : model.tokenToId(a.content());
            if (id == null) id = next++;
            ids.put(a.content(), id);
            added.put(id, a.withId(id));
        }
        return new Tokenizer(List.copyOf(added.values()), Normalizer.fromJson(root.get("normalizer")), PreTokenizer.fromJson(root.get("pre_tokenizer")),
                model, PostProcessor.fromJson(root.get("post_processor")), Decoder.fromJson(root.get("decoder")));
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
        List<Section> raw = splitAdded(text, rawAdded, true);
        for (Section s : raw) {
            if (s.token != null) {
                ids.add(s.token.id());
                continue;
            }
            String n = normalizer == null ? s.text : normalizer.normalize(s.text);
            for (Section t : splitAdded(n, normalizedAdded, s.first)) {
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

    /**
     * A pair of texts (sentence-pair tasks, BERT's next-sentence input): ids with the pair template's special tokens and
     * the token type ids (0 for the first text, 1 for the second where the template says so), as the library's
     * {@code encode(a, b)}.
     */
    public PostProcessor.Pair encodePair(String a, String b, boolean addSpecialTokens) {
        return encodePair(a, b, addSpecialTokens, Integer.MAX_VALUE);
    }

    /**
     * A pair truncated to {@code maxLength} ids, special tokens included, as the library's {@code longest_first}: when
     * the texts do not fit, the shorter one (the first on a tie) keeps at most half of the room and the longer one the rest.
     */
    public PostProcessor.Pair encodePair(String a, String b, boolean addSpecialTokens, int maxLength) {
        int[] x = encode(a, false), y = encode(b, false);
        int room = maxLength - (addSpecialTokens ? encodePairIds(new int[0], new int[0]).ids().length : 0);
        if (room < 0) throw new IllegalArgumentException("encodePair: maxLength " + maxLength + " leaves no room beside the special tokens");
        if (x.length + y.length > room) {
            boolean firstShorter = x.length <= y.length;
            int shortKeep = Math.min(firstShorter ? x.length : y.length, room / 2), longKeep = room - shortKeep;
            x = java.util.Arrays.copyOf(x, firstShorter ? shortKeep : longKeep);
            y = java.util.Arrays.copyOf(y, firstShorter ? longKeep : shortKeep);
        }
        return addSpecialTokens ? encodePairIds(x, y) : PostProcessor.Pair.concat(x, y);
    }

    /** The pair template applied to two already encoded (and perhaps truncated) sequences without special tokens. */
    public PostProcessor.Pair encodePairIds(int[] a, int[] b) {
        return postProcessor != null ? postProcessor.processPair(a, b) : PostProcessor.Pair.concat(a, b);
    }

    /** The token strings of {@code text} (as the library's {@code Encoding.tokens}). */
    public List<String> tokenize(String text, boolean addSpecialTokens) {
        List<String> out = new ArrayList<>();
        for (int id : encode(text, addSpecialTokens)) out.add(idToToken(id));
        return out;
    }

    private record Section(String text, AddedToken token, boolean first) {}

    /** Added-token contents in a character trie, for the library's leftmost-longest matching without trying every token. */
    private static final class Trie {
        private final Map<Character, Trie> children = new HashMap<>();
        private AddedToken token;

        void add(String key, AddedToken t) {
            if (key.isEmpty()) return;
            Trie node = this;
            for (int i = 0; i < key.length(); i++) node = node.children.computeIfAbsent(key.charAt(i), c -> new Trie());
            if (node.token == null) node.token = t;
        }

        boolean isEmpty() {
            return children.isEmpty();
        }
    }

    /**
     * Cuts text at the added tokens of {@code trie} as the library does: at the leftmost position where a token starts,
     * the longest one; the search goes on after it even when a {@code singleWord} token is then discarded for touching a
     * word. O(length × longest token).
     */
    private static List<Section> splitAdded(String text, Trie trie, boolean startsInput) {
        List<Section> out = new ArrayList<>();
        int last = 0;
        for (int i = 0; i < text.length() && !trie.isEmpty(); ) {
            AddedToken best = null;
            int end = i;
            Trie node = trie;
            for (int j = i; j < text.length() && (node = node.children.get(text.charAt(j))) != null; j++) {
                if (node.token != null) {
                    best = node.token;
                    end = j + 1;
                }
            }
            if (best == null) {
                i++;
                continue;
            }
            int start = i;
            i = end;
            if (best.singleWord() && (start > 0 && isWordChar(text.codePointBefore(start)) || end < text.length() && isWordChar(text.codePointAt(end)))) continue;
            if (best.lstrip()) while (start > last && Text.isWhitespace(text.charAt(start - 1))) start--;
            if (best.rstrip()) while (end < text.length() && Text.isWhitespace(text.charAt(end))) end++;
            if (start > last) out.add(new Section(text.substring(last, start), null, last == 0 && startsInput));
            out.add(new Section(null, best, false));
            last = i = end;
        }
        if (last < text.length() || out.isEmpty()) out.add(new Section(text.substring(last), null, last == 0 && startsInput));
        return out;
    }

    /** The regex {@code \w} of Rust (Unicode): alphabetic, marks, decimal digits, connector punctuation, joiners. */
    private static boolean isWordChar(int c) {
        return switch (Character.getType(c)) {
            case Character.NON_SPACING_MARK, Character.COMBINING_SPACING_MARK, Character.ENCLOSING_MARK, Character.DECIMAL_DIGIT_NUMBER,
                 Character.CONNECTOR_PUNCTUATION -> true;
            default -> Character.isAlphabetic(c) || c == 0x200C || c == 0x200D;
        };
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
