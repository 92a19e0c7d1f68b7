package io.github.transformers4j.data.text.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Unicode helpers with the Rust semantics the Hugging Face tokenizers use, and the shared split-with-behaviour routine. */
final class Text {
    private Text() {}

    /** Rust's char::is_whitespace: the Unicode White_Space property (Java's Character.isWhitespace differs). */
    static boolean isWhitespace(int c) {
        return c >= 0x9 && c <= 0xD || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || c >= 0x2000 && c <= 0x200A
                || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /** Unicode general category P* (the tokenizers' is_punctuation), plus ASCII punctuation (symbols like $ + < = > ^ ` | ~). */
    static boolean isPunctuation(int c) {
        if (c > 32 && c < 127) return !Character.isLetterOrDigit(c);
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** Rust's char::is_numeric: categories Nd, Nl, No. */
    static boolean isNumeric(int c) {
        int t = Character.getType(c);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Unicode category "Other" (Cc, Cf, Cs, Co, Cn). */
    static boolean isOther(int c) {
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE || t == Character.PRIVATE_USE
                || t == Character.UNASSIGNED;
    }

    static boolean isMark(int c) {
        int t = Character.getType(c);
        return t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK || t == Character.ENCLOSING_MARK;
    }

    /** Per-character lowercasing (full case mapping, no context), as Rust's char::to_lowercase. */
    static String lowercase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (c < 128) sb.append((char) (c >= 'A' && c <= 'Z' ? c + 32 : c));
            else if (c == 0x130) sb.append("i\u0307");
            else sb.appendCodePoint(Character.toLowerCase(c));
        });
        return sb.toString();
    }

    /** How a delimiter match is treated when splitting (the tokenizers' SplitDelimiterBehavior). */
    enum Behavior {
        REMOVED("Removed"), ISOLATED("Isolated"), MERGED_WITH_PREVIOUS("MergedWithPrevious"), MERGED_WITH_NEXT("MergedWithNext"),
        CONTIGUOUS("Contiguous");

        final String json;

        Behavior(String json) {
            this.json = json;
        }

        static Behavior of(String s) {
            for (Behavior b : values()) if (b.json.equals(s)) return b;
            throw new IllegalArgumentException("tokenizer.json: unknown split behavior '" + s + "'");
        }
    }

    /** Splits at regex matches (offsets in chars), then applies the behaviour; empty pieces are dropped. */
    static List<String> split(String s, Pattern p, Behavior b, boolean invert) {
        List<int[]> m = new ArrayList<>(); // start, end, isMatch
        Matcher mt = p.matcher(s);
        int last = 0;
        while (mt.find()) {
            if (mt.start() == mt.end()) continue;
            if (mt.start() > last) m.add(new int[] {last, mt.start(), 0});
            m.add(new int[] {mt.start(), mt.end(), 1});
            last = mt.end();
        }
        if (last < s.length()) m.add(new int[] {last, s.length(), 0});
        return apply(s, m, b, invert);
    }

    /** Splits where single code points satisfy {@code isDelimiter}: each such code point is one match. */
    static List<String> split(String s, IntPredicate isDelimiter, Behavior b) {
        List<int[]> m = new ArrayList<>();
        int last = 0;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i), n = Character.charCount(c);
            if (isDelimiter.test(c)) {
                if (i > last) m.add(new int[] {last, i, 0});
                m.add(new int[] {i, i + n, 1});
                last = i + n;
            }
            i += n;
        }
        if (last < s.length()) m.add(new int[] {last, s.length(), 0});
        return apply(s, m, b, false);
    }

    private static List<String> apply(String s, List<int[]> matches, Behavior b, boolean invert) {
        if (invert) for (int[] x : matches) x[2] = 1 - x[2];
        List<int[]> out = new ArrayList<>(); // start, end, remove
        switch (b) {
            case ISOLATED -> matches.forEach(x -> out.add(new int[] {x[0], x[1], 0}));
            case REMOVED -> matches.forEach(x -> out.add(new int[] {x[0], x[1], x[2]}));
            case MERGED_WITH_PREVIOUS -> {
                boolean prev = false;
                for (int[] x : matches) {
                    if (x[2] == 1 && !prev && !out.isEmpty()) out.getLast()[1] = x[1];
                    else out.add(new int[] {x[0], x[1], 0});
                    prev = x[2] == 1;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean prev = false;
                for (int i = matches.size() - 1; i >= 0; i--) {
                    int[] x = matches.get(i);
                    if (x[2] == 1 && !prev && !out.isEmpty()) out.getLast()[0] = x[0];
                    else out.add(new int[] {x[0], x[1], 0});
                    prev = x[2] == 1;
                }
                java.util.Collections.reverse(out);
            }
            case CONTIGUOUS -> {
                boolean prev = false;
                for (int[] x : matches) {
                    if ((x[2] == 1) == prev && !out.isEmpty()) out.getLast()[1] = x[1];
                    else out.add(new int[] {x[0], x[1], 0});
                    prev = x[2] == 1;
                }
            }
        }
        List<String> pieces = new ArrayList<>(out.size());
        for (int[] x : out) if (x[2] == 0 && x[1] > x[0]) pieces.add(s.substring(x[0], x[1]));
        return pieces;
    }
}
