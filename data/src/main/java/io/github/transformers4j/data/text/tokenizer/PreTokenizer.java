package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The pre-tokenizers of tokenizer.json ({@code "pre_tokenizer"}): ByteLevel, Whitespace, WhitespaceSplit,
 * BertPreTokenizer, Metaspace, Punctuation, Digits, Split and Sequence. A pre-tokenizer cuts one section of text
 * (the text between added tokens) into pieces that the model tokenizes independently.
 */
public sealed interface PreTokenizer {
    /**
     * @param pieces the current pieces of one section
     * @param firstSection whether the section starts the input (Metaspace's prepend_scheme "first")
     */
    List<String> split(List<String> pieces, boolean firstSection);

    ObjectNode toJson();

    JsonNodeFactory F = JsonNodeFactory.instance;

    static PreTokenizer fromJson(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        return switch (type) {
            case "ByteLevel" -> new ByteLevel(n.path("add_prefix_space").asBoolean(true), n.path("trim_offsets").asBoolean(true),
                    n.path("use_regex").asBoolean(true));
            case "Whitespace" -> new Whitespace();
            case "WhitespaceSplit" -> new WhitespaceSplit();
            case "BertPreTokenizer" -> new Bert();
            case "Metaspace" -> Metaspace.fromJson(n);
            case "Punctuation" -> new Punctuation(Text.Behavior.of(n.path("behavior").asText("Isolated")));
            case "Digits" -> new Digits(n.path("individual_digits").asBoolean(false));
            case "Split" -> Split.fromJson(n);
            case "Sequence" -> {
                List<PreTokenizer> list = new ArrayList<>();
                for (JsonNode c : n.path("pretokenizers")) list.add(fromJson(c));
                yield new Sequence(list);
            }
            default -> throw new IllegalArgumentException("tokenizer.json: unknown pre_tokenizer type '" + type + "'");
        };
    }

    private static ObjectNode typed(String type) {
        ObjectNode o = F.objectNode();
        o.put("type", type);
        return o;
    }

    private static List<String> each(List<String> pieces, java.util.function.Function<String, List<String>> f) {
        List<String> out = new ArrayList<>();
        for (String p : pieces) out.addAll(f.apply(p));
        return out;
    }

    /**
     * GPT-2's byte-level pre-tokenizer: split with GPT-2's regex, then map each UTF-8 byte to a printable character
     * ({@link ByteLevel#BYTE_TO_CHAR}), so every string is covered by 256 base symbols and nothing is unknown.
     */
    record ByteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) implements PreTokenizer {
        /** GPT-2's pattern; \s, \p{L} and \p{N} with Unicode semantics as in Oniguruma. */
        static final Pattern GPT2 = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                Pattern.UNICODE_CHARACTER_CLASS);
        static final char[] BYTE_TO_CHAR = new char[256];
        static final int[] CHAR_TO_BYTE = new int[512];

        static {
            java.util.Arrays.fill(CHAR_TO_BYTE, -1);
            int n = 0;
            for (int b = 0; b < 256; b++) {
                boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
                char c = printable ? (char) b : (char) (256 + n++);
                BYTE_TO_CHAR[b] = c;
                CHAR_TO_BYTE[c] = b;
            }
        }

        public static String toByteChars(String s) {
            byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            char[] out = new char[bytes.length];
            for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xff];
            return new String(out);
        }

        public List<String> split(List<String> pieces, boolean firstSection) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < pieces.size(); i++) {
                String p = pieces.get(i);
                if (addPrefixSpace && !p.startsWith(" ")) p = " " + p;
                List<String> parts = useRegex ? Text.split(p, GPT2, Text.Behavior.ISOLATED, false) : List.of(p);
                for (String s : parts) out.add(toByteChars(s));
            }
            return out;
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("ByteLevel");
            o.put("add_prefix_space", addPrefixSpace);
            o.put("trim_offsets", trimOffsets);
            o.put("use_regex", useRegex);
            return o;
        }
    }

    /** Runs of word characters, and runs of other non-space characters: \w+|[^\w\s]+. */
    record Whitespace() implements PreTokenizer {
        static final Pattern P = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

        public List<String> split(List<String> pieces, boolean firstSection) {
            return each(pieces, p -> Text.split(p, P, Text.Behavior.REMOVED, true));
        }

        public ObjectNode toJson() {
            return typed("Whitespace");
        }
    }

    record WhitespaceSplit() implements PreTokenizer {
        public List<String> split(List<String> pieces, boolean firstSection) {
            return each(pieces, p -> Text.split(p, Text::isWhitespace, Text.Behavior.REMOVED));
        }

        public ObjectNode toJson() {
            return typed("WhitespaceSplit");
        }
    }

    /** BERT's: split on whitespace (removed) and punctuation (kept, one character a piece). */
    record Bert() implements PreTokenizer {
        public List<String> split(List<String> pieces, boolean firstSection) {
            return each(each(pieces, p -> Text.split(p, Text::isWhitespace, Text.Behavior.REMOVED)),
                    p -> Text.split(p, Text::isPunctuation, Text.Behavior.ISOLATED));
        }

        public ObjectNode toJson() {
            return typed("BertPreTokenizer");
        }
    }

    record Punctuation(Text.Behavior behavior) implements PreTokenizer {
        public List<String> split(List<String> pieces, boolean firstSection) {
            return each(pieces, p -> Text.split(p, Text::isPunctuation, behavior));
        }

        public ObjectNode toJson() {
            return typed("Punctuation").put("behavior", behavior.json);
        }
    }

    record Digits(boolean individual) implements PreTokenizer {
        public List<String> split(List<String> pieces, boolean firstSection) {
            return each(pieces, p -> Text.split(p, Text::isNumeric, individual ? Text.Behavior.ISOLATED : Text.Behavior.CONTIGUOUS));
        }

        public ObjectNode toJson() {
            return typed("Digits").put("individual_digits", individual);
        }
    }

    /**
     * SentencePiece-style: spaces become {@code replacement} (U+2581), one is prepended ({@code always}, or {@code first}
     * for the first section only, or {@code never}), and with {@code split} each piece starts at a replacement char.
     */
    record Metaspace(String replacement, String prependScheme, boolean split) implements PreTokenizer {
        static Metaspace fromJson(JsonNode n) {
            String scheme = n.hasNonNull("prepend_scheme") ? n.get("prepend_scheme").asText()
                    : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
            return new Metaspace(n.path("replacement").asText("\u2581"), scheme, n.path("split").asBoolean(true));
        }

        public List<String> split(List<String> pieces, boolean firstSection) {
            List<String> out = new ArrayList<>();
            int rep = replacement.codePointAt(0);
            for (String p : pieces) {
                String s = p.replace(" ", replacement);
                boolean prepend = prependScheme.equals("always") || prependScheme.equals("first") && firstSection;
                if (prepend && !s.startsWith(replacement)) s = replacement + s;
                if (split) out.addAll(Text.split(s, c -> c == rep, Text.Behavior.MERGED_WITH_NEXT));
                else if (!s.isEmpty()) out.add(s);
            }
            return out;
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Metaspace");
            o.put("replacement", replacement);
            o.put("prepend_scheme", prependScheme);
            o.put("split", split);
            return o;
        }
    }

    record Split(String pattern, boolean regex, Text.Behavior behavior, boolean invert, Pattern compiled) implements PreTokenizer {
        static Split fromJson(JsonNode n) {
            JsonNode p = n.path("pattern");
            boolean regex = p.has("Regex");
            String pat = regex ? p.get("Regex").asText() : p.path("String").asText();
            return new Split(pat, regex, Text.Behavior.of(n.path("behavior").asText()), n.path("invert").asBoolean(false),
                    regex ? Pattern.compile(pat, Pattern.UNICODE_CHARACTER_CLASS) : Pattern.compile(Pattern.quote(pat)));
        }

        public List<String> split(List<String> pieces, boolean firstSection) {
            return each(pieces, p -> Text.split(p, compiled, behavior, invert));
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Split");
            o.putObject("pattern").put(regex ? "Regex" : "String", pattern);
            o.put("behavior", behavior.json);
            o.put("invert", invert);
            return o;
        }
    }

    record Sequence(List<PreTokenizer> pretokenizers) implements PreTokenizer {
        public List<String> split(List<String> pieces, boolean firstSection) {
            for (PreTokenizer p : pretokenizers) pieces = p.split(pieces, firstSection);
            return pieces;
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Sequence");
            var arr = o.putArray("pretokenizers");
            pretokenizers.forEach(p -> arr.add(p.toJson()));
            return o;
        }
    }
}
