package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The normalizers of Hugging Face tokenizer.json ({@code "normalizer"}): NFC, NFD, NFKC, NFKD, Lowercase,
 * StripAccents, Strip, Replace, Prepend, BertNormalizer, Precompiled (SentencePiece's rules) and Sequence.
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
            case "Precompiled" -> Precompiled.of(n.path("precompiled_charsmap").asText(""));
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
            if (stripAccents != null ? stripAccents : lowercase) { // only Mn, unlike StripAccents: Devanagari's Mc vowel signs stay
                StringBuilder kept = new StringBuilder(r.length());
                java.text.Normalizer.normalize(r, java.text.Normalizer.Form.NFD).codePoints()
                        .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(kept::appendCodePoint);
                r = kept.toString();
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

    /**
     * SentencePiece's normalization rules, as T5, ALBERT and XLM-R files carry them: {@code precompiled_charsmap} is
     * base64 of a 4-byte little-endian trie size, a darts-clone double-array trie of uint32 units over UTF-8 keys, and
     * the replacements, each ended by NUL, that the trie's values point into. As in the library, a grapheme shorter than
     * 6 UTF-8 bytes is replaced whole when the trie holds a prefix of it (the shortest); otherwise each of its
     * characters is replaced when the trie holds it, and kept when not.
     */
    record Precompiled(String charsmap, int[] trie, byte[] replacements) implements Normalizer {
        static Precompiled of(String base64) {
            byte[] b;
            try {
                b = java.util.Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tokenizer.json: normalizer Precompiled: precompiled_charsmap is not base64: " + e.getMessage(), e);
            }
            var buf = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            long size = b.length < 4 ? -1 : buf.getInt() & 0xffffffffL;
            if (size < 4 || size % 4 != 0 || 4 + size > b.length) throw new IllegalArgumentException("tokenizer.json: normalizer Precompiled: "
                    + "precompiled_charsmap of " + b.length + " bytes does not hold a trie (size field " + size + ")");
            int[] trie = new int[(int) size / 4];
            for (int i = 0; i < trie.length; i++) trie[i] = buf.getInt();
            return new Precompiled(base64, trie, java.util.Arrays.copyOfRange(b, 4 + (int) size, b.length));
        }

        public String normalize(String s) {
            StringBuilder sb = new StringBuilder(s.length());
            var graphemes = java.text.BreakIterator.getCharacterInstance(); // extended grapheme clusters since Java 20
            graphemes.setText(s);
            for (int start = 0, end = graphemes.next(); end != java.text.BreakIterator.DONE; start = end, end = graphemes.next()) {
                String g = s.substring(start, end);
                byte[] utf8 = g.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                int hit = utf8.length < 6 ? lookup(utf8) : -1;
                if (hit >= 0) {
                    sb.append(replacement(hit));
                    continue;
                }
                g.codePoints().forEach(c -> {
                    int h = lookup(new String(Character.toChars(c)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    if (h >= 0) sb.append(replacement(h));
                    else sb.appendCodePoint(c);
                });
            }
            return sb.toString();
        }

        /** darts-clone's common-prefix search, stopped at the first (shortest) key found: its value, or -1. */
        private int lookup(byte[] key) {
            int pos = offset(trie[0]);
            for (byte k : key) {
                int c = k & 0xff;
                if (c == 0) break;
                pos ^= c;
                if (pos >= trie.length) return -1;
                int unit = trie[pos];
                if ((unit & 0x800000ff) != c) return -1; // the unit's label
                pos ^= offset(unit);
                if ((unit >>> 8 & 1) == 1) return pos < trie.length ? trie[pos] & 0x7fffffff : -1; // has a leaf: its value
            }
            return -1;
        }

        private static int offset(int unit) {
            return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
        }

        private String replacement(int from) {
            int to = Math.min(from, replacements.length);
            while (to < replacements.length && replacements[to] != 0) to++;
            return to <= from ? "" : new String(replacements, from, to - from, java.nio.charset.StandardCharsets.UTF_8);
        }

        public ObjectNode toJson() {
            return typed("Precompiled").put("precompiled_charsmap", charsmap);
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
