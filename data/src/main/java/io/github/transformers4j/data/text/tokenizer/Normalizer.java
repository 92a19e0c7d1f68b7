package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The normalizers of Hugging Face tokenizer.json ({@code "normalizer"}): NFC, NFD, NFKC, NFKD, Lowercase,
 * StripAccents, Strip, Replace, Prepend, BertNormalizer and Sequence. Not supported: {@code Precompiled} (the
 * SentencePiece character map T5's file carries): loading such a file fails with a message saying so.
 */
public sealed interface Normalizer {
    String normalize(String s);

    ObjectNode toJson();

    JsonNodeFactory F = JsonNodeFactory.instance;

    static Normalizer fromJson(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        return switch (type) {
            case "NFC", "NFD", "NFKC", "NFKD" -> new Unicode(type);
            case "Lowercase" -> new Lowercase();
            case "StripAccents" -> new StripAccents();
            case "Strip" -> new Strip(n.path("strip_left").asBoolean(true), n.path("strip_right").asBoolean(true));
            case "Replace" -> Replace.fromJson(n);
            case "Prepend" -> new Prepend(n.path("prepend").asText());
            case "BertNormalizer" -> new BertNormalizer(n.path("clean_text").asBoolean(true), n.path("handle_chinese_chars").asBoolean(true),
                    n.hasNonNull("strip_accents") ? n.get("strip_accents").asBoolean() : null, n.path("lowercase").asBoolean(true));
            case "Sequence" -> {
                List<Normalizer> list = new ArrayList<>();
                for (JsonNode c : n.path("normalizers")) list.add(fromJson(c));
                yield new Sequence(list);
            }
            case "Precompiled" -> throw new UnsupportedOperationException("tokenizer.json: the Precompiled normalizer (a SentencePiece "
                    + "character map, as in T5's tokenizer.json) is not supported; replace it with {\"type\":\"NFKC\"}, which is close");
            default -> throw new IllegalArgumentException("tokenizer.json: unknown normalizer type '" + type + "'");
        };
    }

    private static ObjectNode typed(String type) {
        ObjectNode o = F.objectNode();
        o.put("type", type);
        return o;
    }

    record Unicode(String form) implements Normalizer {
        public String normalize(String s) {
            return java.text.Normalizer.normalize(s, java.text.Normalizer.Form.valueOf(form));
        }

        public ObjectNode toJson() {
            return typed(form);
        }
    }

    record Lowercase() implements Normalizer {
        public String normalize(String s) {
            return Text.lowercase(s);
        }

        public ObjectNode toJson() {
            return typed("Lowercase");
        }
    }

    /** Removes combining marks (apply after NFD to drop accents). */
    record StripAccents() implements Normalizer {
        public String normalize(String s) {
            StringBuilder sb = new StringBuilder(s.length());
            s.codePoints().filter(c -> !Text.isMark(c)).forEach(sb::appendCodePoint);
            return sb.toString();
        }

        public ObjectNode toJson() {
            return typed("StripAccents");
        }
    }

    record Strip(boolean left, boolean right) implements Normalizer {
        public String normalize(String s) {
            int a = 0, b = s.length();
            if (left) while (a < b && Text.isWhitespace(s.codePointAt(a))) a += Character.charCount(s.codePointAt(a));
            if (right) while (b > a && Text.isWhitespace(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
            return s.substring(a, b);
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Strip");
            o.put("strip_left", left);
            o.put("strip_right", right);
            return o;
        }
    }

    /** Replaces every match of a literal string or a regex with {@code content}. */
    record Replace(String pattern, boolean regex, String content, Pattern compiled) implements Normalizer {
        static Replace fromJson(JsonNode n) {
            JsonNode p = n.path("pattern");
            boolean regex = p.has("Regex");
            String pat = regex ? p.get("Regex").asText() : p.path("String").asText();
            return new Replace(pat, regex, n.path("content").asText(), regex ? Pattern.compile(pat, Pattern.UNICODE_CHARACTER_CLASS)
                    : Pattern.compile(Pattern.quote(pat)));
        }

        public String normalize(String s) {
            return compiled.matcher(s).replaceAll(java.util.regex.Matcher.quoteReplacement(content));
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Replace");
            o.putObject("pattern").put(regex ? "Regex" : "String", pattern);
            o.put("content", content);
            return o;
        }
    }

    record Prepend(String prepend) implements Normalizer {
        public String normalize(String s) {
            return s.isEmpty() ? s : prepend + s;
        }

        public ObjectNode toJson() {
            return typed("Prepend").put("prepend", prepend);
        }
    }

    /** BERT's: clean control characters, space out CJK ideographs, strip accents, lowercase. */
    record BertNormalizer(boolean cleanText, boolean handleChineseChars, Boolean stripAccents, boolean lowercase) implements Normalizer {
        public String normalize(String s) {
            StringBuilder sb = new StringBuilder(s.length());
            s.codePoints().forEach(c -> {
                if (cleanText) {
                    if (c == 0 || c == 0xFFFD || c != '\t' && c != '\n' && c != '\r' && Text.isOther(c)) return;
                    if (c == '\t' || c == '\n' || c == '\r' || Text.isWhitespace(c)) c = ' ';
                }
                if (handleChineseChars && isChinese(c)) sb.append(' ').appendCodePoint(c).append(' ');
                else sb.appendCodePoint(c);
            });
            String r = sb.toString();
            if (stripAccents != null ? stripAccents : lowercase) {
                r = new StripAccents().normalize(java.text.Normalizer.normalize(r, java.text.Normalizer.Form.NFD));
            }
            return lowercase ? Text.lowercase(r) : r;
        }

        private static boolean isChinese(int c) {
            return c >= 0x4E00 && c <= 0x9FFF || c >= 0x3400 && c <= 0x4DBF || c >= 0x20000 && c <= 0x2A6DF || c >= 0x2A700 && c <= 0x2B73F
                    || c >= 0x2B740 && c <= 0x2B81F || c >= 0x2B920 && c <= 0x2CEAF || c >= 0xF900 && c <= 0xFAFF || c >= 0x2F800 && c <= 0x2FA1F;
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("BertNormalizer");
            o.put("clean_text", cleanText);
            o.put("handle_chinese_chars", handleChineseChars);
            if (stripAccents == null) o.putNull("strip_accents");
            else o.put("strip_accents", stripAccents);
            o.put("lowercase", lowercase);
            return o;
        }
    }

    record Sequence(List<Normalizer> normalizers) implements Normalizer {
        public String normalize(String s) {
            for (Normalizer n : normalizers) s = n.normalize(s);
            return s;
        }

        public ObjectNode toJson() {
            ObjectNode o = typed("Sequence");
            var arr = o.putArray("normalizers");
            normalizers.forEach(n -> arr.add(n.toJson()));
            return o;
        }
    }
}
