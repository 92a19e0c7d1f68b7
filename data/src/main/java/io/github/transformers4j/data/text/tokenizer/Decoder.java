package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The decoders of tokenizer.json ({@code "decoder"}): ByteLevel, WordPiece, Metaspace, BPEDecoder, ByteFallback,
 * Fuse, Strip, Replace and Sequence. Each maps the list of token strings to a new list; the tokenizer concatenates
 * the result. Without a decoder, tokens are joined with spaces (as the Hugging Face library does).
 */
public sealed interface Decoder {
    List<String> decodeChain(List<String> tokens);

    ObjectNode toJson();

    JsonNodeFactory F = JsonNodeFactory.instance;

    static Decoder fromJson(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        return switch (type) {
            case "ByteLevel" -> new ByteLevel(n);
            case "WordPiece" -> new WordPiece(n.path("prefix").asText("##"), n.path("cleanup").asBoolean(true));
            case "Metaspace" -> new Metaspace(n.path("replacement").asText("\u2581"), n.hasNonNull("prepend_scheme")
                    ? !n.get("prepend_scheme").asText().equals("never") : n.path("add_prefix_space").asBoolean(true), n);
            case "BPEDecoder" -> new BpeDecoder(n.path("suffix").asText("</w>"));
            case "ByteFallback" -> new ByteFallback();
            case "Fuse" -> new Fuse();
            case "Strip" -> new Strip(n.path("content").asText(" "), n.path("start").asInt(0), n.path("stop").asInt(0));
            case "Replace" -> {
                JsonNode p = n.path("pattern");
                boolean regex = p.has("Regex");
                String pat = regex ? p.get("Regex").asText() : p.path("String").asText();
                yield new Replace(pat, regex, n.path("content").asText(), regex ? Pattern.compile(pat) : Pattern.compile(Pattern.quote(pat)));
            }
            case "Sequence" -> {
                List<Decoder> list = new ArrayList<>();
                for (JsonNode c : n.path("decoders")) list.add(fromJson(c));
                yield new Sequence(list);
            }
            default -> throw new IllegalArgumentException("tokenizer.json: unknown decoder type '" + type + "'");
        };
    }

    private static ObjectNode typed(String type) {
        ObjectNode o = F.objectNode();
        o.put("type", type);
        return o;
    }

    /** Maps the byte characters back to bytes and decodes UTF-8 (invalid sequences become U+FFFD). */
    record ByteLevel(JsonNode json) implements Decoder {
        public static ByteLevel standard() {
            ObjectNode o = typed("ByteLevel");
            o.put("add_prefix_space", true);
            o.put("trim_offsets", true);
            o.put("use_regex", true);
            return new ByteLevel(o);
        }

        public List<String> decodeChain(List<String> tokens) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            StringBuilder passthrough = new StringBuilder();
            for (String t : tokens) {
                byte[] mapped = new byte[t.length()];
                boolean all = true;
                for (int i = 0; i < t.length() && all; i++) {
                    char c = t.charAt(i);
                    int b = c < PreTokenizer.ByteLevel.CHAR_TO_BYTE.length ? PreTokenizer.ByteLevel.CHAR_TO_BYTE[c] : -1;
                    if (b < 0) all = false;
                    else mapped[i] = (byte) b;
                }
                bytes.writeBytes(all ? mapped : t.getBytes(StandardCharsets.UTF_8)); // a token with a non-byte char: as it is
            }
            passthrough.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
            return List.of(passthrough.toString());
        }

        public ObjectNode toJson() {
            return (ObjectNode) json;
        }
    }

    /** "##" continuations glue to the previous token; other tokens get a space before them. */
    record WordPiece(String prefix, boolean cleanup) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                if (i != 0) t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
                if (cleanup) t = cleanup(t);
                out.add(t);
            }
            return out;
        }

        static String cleanup(String s) {
            return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                    .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
                    .replace(" 've", "'ve").replace(" 're", "'re");
        }

        public ObjectNode toJson() {
            return typed("WordPiece").put("prefix", prefix).put("cleanup", cleanup);
        }
    }

    record Metaspace(String replacement, boolean stripFirstSpace, JsonNode json) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i).replace(replacement, " ");
                if (i == 0 && stripFirstSpace && t.startsWith(" ")) t = t.substring(1);
                out.add(t);
            }
            return out;
        }

        public ObjectNode toJson() {
            return (ObjectNode) json;
        }
    }

    record BpeDecoder(String suffix) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < tokens.size(); i++) out.add(tokens.get(i).replace(suffix, i == tokens.size() - 1 ? "" : " "));
            return out;
        }

        public ObjectNode toJson() {
            return typed("BPEDecoder").put("suffix", suffix);
        }
    }

    /** Runs of {@code <0xXX>} tokens become the UTF-8 text of their bytes (U+FFFD per byte if invalid). */
    record ByteFallback() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>();
            List<Integer> pending = new ArrayList<>();
            for (String t : tokens) {
                int b = byteOf(t);
                if (b >= 0) {
                    pending.add(b);
                    continue;
                }
                flush(pending, out);
                out.add(t);
            }
            flush(pending, out);
            return out;
        }

        private static int byteOf(String t) {
            if (t.length() != 6 || !t.startsWith("<0x") || !t.endsWith(">")) return -1;
            try {
                return Integer.parseInt(t.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        private static void flush(List<Integer> pending, List<String> out) {
            if (pending.isEmpty()) return;
            byte[] b = new byte[pending.size()];
            for (int i = 0; i < b.length; i++) b[i] = (byte) (int) pending.get(i);
            var dec = StandardCharsets.UTF_8.newDecoder();
            try {
                out.add(dec.decode(java.nio.ByteBuffer.wrap(b)).toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                for (int i = 0; i < b.length; i++) out.add("\uFFFD");
            }
            pending.clear();
        }

        public ObjectNode toJson() {
            return typed("ByteFallback");
        }
    }

    record Fuse() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }

        public ObjectNode toJson() {
            return typed("Fuse");
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters of every token. */
    record Strip(String content, int start, int stop) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            char c = content.charAt(0);
            List<String> out = new ArrayList<>();
            for (String t : tokens) {
                int a = 0, b = t.length();
                while (a < Math.min(start, t.length()) && t.charAt(a) == c) a++;
                int cut = 0;
                while (cut < stop && b > a && t.charAt(b - 1) == c) {
                    b--;
                    cut++;
                }
                out.add(t.substring(a, b));
            }
            return out;
        }

        public ObjectNode toJson() {
            return typed("Strip").put("content", content).put("start", start).put("stop", stop);
        }
    }

    record Replace(String pattern, boolean regex, String content, Pattern compiled) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            return tokens.stream().map(t -> compiled.matcher(t).replaceAll(java.util.regex.Matcher.quoteReplacement(content))).toList();
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Replace");
            o.putObject("pattern").put(regex ? "Regex" : "String", pattern);
            o.put("content", content);
            return o;
        }
    }

    record Sequence(List<Decoder> decoders) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder d : decoders) tokens = d.decodeChain(tokens);
            return tokens;
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Sequence");
            ArrayNode a = o.putArray("decoders");
            decoders.forEach(d -> a.add(d.toJson()));
            return o;
        }
    }
}
