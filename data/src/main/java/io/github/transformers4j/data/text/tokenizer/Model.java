package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The subword models of tokenizer.json ({@code "model"}): BPE (with byte fallback, continuing-subword prefix,
 * end-of-word suffix, unknown-token fusing), WordPiece, Unigram (Viterbi, as SentencePiece and T5) and WordLevel.
 * {@link #tokenize} turns one pre-tokenized piece into token ids.
 */
public sealed interface Model {
    int[] tokenize(String piece);

    /** The id of a token of the model's vocabulary, or null. */
    Integer tokenToId(String token);

    /** The token of an id, or null. */
    String idToToken(int id);

    int vocabSize();

    ObjectNode toJson();

    JsonNodeFactory F = JsonNodeFactory.instance;

    static Model fromJson(JsonNode n) {
        String type = n.path("type").asText("");
        if (type.isEmpty()) { // old files omit the type: guess from the fields
            type = n.has("merges") ? "BPE" : n.has("continuing_subword_prefix") ? "WordPiece" : n.path("vocab").isArray() ? "Unigram" : "WordLevel";
        }
        return switch (type) {
            case "BPE" -> Bpe.fromJson(n);
            case "WordPiece" -> new WordPiece(vocab(n.path("vocab")), n.path("unk_token").asText("[UNK]"),
                    n.path("continuing_subword_prefix").asText("##"), n.path("max_input_chars_per_word").asInt(100));
            case "Unigram" -> Unigram.fromJson(n);
            case "WordLevel" -> new WordLevel(vocab(n.path("vocab")), n.path("unk_token").asText(null));
            default -> throw new IllegalArgumentException("tokenizer.json: unknown model type '" + type + "'");
        };
    }

    private static LinkedHashMap<String, Integer> vocab(JsonNode v) {
        LinkedHashMap<String, Integer> m = new LinkedHashMap<>();
        v.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asInt()));
        return m;
    }

    private static String[] inverse(Map<String, Integer> vocab) {
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        String[] inv = new String[max + 1];
        vocab.forEach((k, v) -> inv[v] = k);
        return inv;
    }

    private static ObjectNode vocabJson(Map<String, Integer> vocab) {
        ObjectNode o = F.objectNode();
        vocab.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> o.put(e.getKey(), e.getValue()));
        return o;
    }

    /** Byte-fallback tokens {@code <0xXX>} for the UTF-8 bytes of a string, or null if one is missing. */
    private static List<Integer> byteTokens(String s, java.util.function.Function<String, Integer> lookup) {
        List<Integer> ids = new ArrayList<>();
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            Integer id = lookup.apply(String.format("<0x%02X>", b & 0xff));
            if (id == null) return null;
            ids.add(id);
        }
        return ids;
    }

    private static int[] toArray(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Byte-pair encoding. {@code merges} in priority order; a merge of a and b yields a + b (b without the prefix). */
    final class Bpe implements Model {
        final LinkedHashMap<String, Integer> vocab;
        final String[] idToToken;
        final List<String[]> merges;
        final Map<Long, int[]> mergeOf = new HashMap<>(); // (left id, right id) -> {rank, new id}
        final String unkToken, prefix, suffix;
        final boolean fuseUnk, byteFallback, ignoreMerges;
        private final Map<String, int[]> cache = new ConcurrentHashMap<>();

        public Bpe(LinkedHashMap<String, Integer> vocab, List<String[]> merges, String unkToken, String prefix, String suffix,
                   boolean fuseUnk, boolean byteFallback, boolean ignoreMerges) {
            this.vocab = vocab;
            this.idToToken = inverse(vocab);
            this.merges = merges;
            this.unkToken = unkToken;
            this.prefix = prefix;
            this.suffix = suffix;
            this.fuseUnk = fuseUnk;
            this.byteFallback = byteFallback;
            this.ignoreMerges = ignoreMerges;
            int prefixLen = prefix == null ? 0 : prefix.length();
            for (int r = 0; r < merges.size(); r++) {
                String[] m = merges.get(r);
                Integer a = vocab.get(m[0]), b = vocab.get(m[1]);
                if (a == null || b == null) throw new IllegalArgumentException("tokenizer.json: BPE merge " + r + " (" + m[0] + " " + m[1]
                        + ") uses a token that is not in the vocabulary");
                String merged = m[0] + m[1].substring(Math.min(prefixLen, m[1].length()));
                Integer id = vocab.get(merged);
                if (id == null) throw new IllegalArgumentException("tokenizer.json: BPE merge " + r + " gives '" + merged + "', not in the vocabulary");
                mergeOf.putIfAbsent(key(a, b), new int[] {r, id});
            }
        }

        static long key(int a, int b) {
            return ((long) a << 32) | (b & 0xffffffffL);
        }

        static Bpe fromJson(JsonNode n) {
            List<String[]> merges = new ArrayList<>();
            for (JsonNode m : n.path("merges")) {
                if (m.isArray()) merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
                else {
                    String s = m.asText();
                    int sp = s.indexOf(' ', 1);
                    if (sp < 0) throw new IllegalArgumentException("tokenizer.json: BPE merge '" + s + "' is not 'a b'");
                    merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
                }
            }
            return new Bpe(vocab(n.path("vocab")), merges, text(n, "unk_token"), text(n, "continuing_subword_prefix"),
                    text(n, "end_of_word_suffix"), n.path("fuse_unk").asBoolean(false), n.path("byte_fallback").asBoolean(false),
                    n.path("ignore_merges").asBoolean(false));
        }

        private static String text(JsonNode n, String f) {
            return n.hasNonNull(f) ? n.get(f).asText() : null;
        }

        public int[] tokenize(String piece) {
            if (piece.isEmpty()) return new int[0];
            int[] hit = cache.get(piece);
            if (hit != null) return hit;
            int[] ids = encodeWord(piece);
            if (piece.length() < 256 && cache.size() < 200_000) cache.put(piece, ids); // long pieces: rare, and big
            return ids;
        }

        private int[] encodeWord(String w) {
            if (ignoreMerges) {
                Integer id = vocab.get(w);
                if (id != null) return new int[] {id};
            }
            // Initial symbols: one per code point (with prefix / suffix), unknowns as byte tokens or unk.
            List<Integer> sym = new ArrayList<>();
            Integer unk = unkToken == null ? null : vocab.get(unkToken);
            boolean lastUnk = false;
            int n = w.codePointCount(0, w.length());
            for (int i = 0, k = 0; i < w.length(); k++) {
                int c = w.codePointAt(i);
                String s = new String(Character.toChars(c));
                i += Character.charCount(c);
                if (prefix != null && k > 0) s = prefix + s;
                if (suffix != null && k == n - 1) s = s + suffix;
                Integer id = vocab.get(s);
                if (id != null) {
                    sym.add(id);
                    lastUnk = false;
                    continue;
                }
                List<Integer> bytes = byteFallback ? byteTokens(new String(Character.toChars(c)), vocab::get) : null;
                if (bytes != null) {
                    sym.addAll(bytes);
                    lastUnk = false;
                } else if (unk != null) {
                    if (!(fuseUnk && lastUnk)) sym.add(unk);
                    lastUnk = true;
                }
            }
            return merge(toArray(sym));
        }

        /**
         * Applies merges as the library does: repeatedly the adjacent pair of lowest rank, leftmost first. Candidates
         * wait in a min-heap keyed {@code rank << 32 | position} over a doubly linked list of symbols; an entry whose
         * pair changed after it was queued is stale and skipped. O(n log n) in the number of symbols.
         */
        private int[] merge(int[] sym) {
            int n = sym.length;
            int[] prev = new int[n], next = new int[n]; // next == n: the last symbol
            boolean[] removed = new boolean[n];
            for (int i = 0; i < n; i++) {
                prev[i] = i - 1;
                next[i] = i + 1;
            }
            PriorityQueue<Long> queue = new PriorityQueue<>();
            for (int i = 0; i + 1 < n; i++) offer(queue, sym, i, i + 1);
            while (!queue.isEmpty()) {
                long top = queue.poll();
                int rank = (int) (top >>> 32), pos = (int) top;
                if (removed[pos] || next[pos] == n) continue;
                int right = next[pos];
                int[] m = mergeOf.get(key(sym[pos], sym[right]));
                if (m == null || m[0] != rank) continue; // stale: one side was merged since
                sym[pos] = m[1];
                removed[right] = true;
                next[pos] = next[right];
                if (next[pos] < n) prev[next[pos]] = pos;
                if (prev[pos] >= 0) offer(queue, sym, prev[pos], pos);
                if (next[pos] < n) offer(queue, sym, pos, next[pos]);
            }
            int count = 0;
            for (int i = 0; i < n; i = next[i]) sym[count++] = sym[i]; // symbol 0 is never removed
            return java.util.Arrays.copyOf(sym, count);
        }

        private void offer(PriorityQueue<Long> queue, int[] sym, int left, int right) {
            int[] m = mergeOf.get(key(sym[left], sym[right]));
            if (m != null) queue.add((long) m[0] << 32 | left);
        }

        public Integer tokenToId(String token) {
            return vocab.get(token);
        }

        public String idToToken(int id) {
            return id >= 0 && id < idToToken.length ? idToToken[id] : null;
        }

        public int vocabSize() {
            return vocab.size();
        }

        public List<String[]> merges() {
            return merges;
        }

        public ObjectNode toJson() {
            ObjectNode o = F.objectNode();
            o.put("type", "BPE");
            o.putNull("dropout");
            putOrNull(o, "unk_token", unkToken);
            putOrNull(o, "continuing_subword_prefix", prefix);
            putOrNull(o, "end_of_word_suffix", suffix);
            o.put("fuse_unk", fuseUnk);
            o.put("byte_fallback", byteFallback);
            o.put("ignore_merges", ignoreMerges);
            o.set("vocab", vocabJson(vocab));
            ArrayNode m = o.putArray("merges");
            for (String[] p : merges) m.addArray().add(p[0]).add(p[1]);
            return o;
        }
    }

    private static void putOrNull(ObjectNode o, String k, String v) {
        if (v == null) o.putNull(k);
        else o.put(k, v);
    }

    /** BERT's greedy longest-match-first subwords; a word with an unmatched rest becomes the unknown token. */
    record WordPiece(LinkedHashMap<String, Integer> vocab, String unkToken, String prefix, int maxInputCharsPerWord, String[] inv)
            implements Model {
        public WordPiece(LinkedHashMap<String, Integer> vocab, String unkToken, String prefix, int maxInputCharsPerWord) {
            this(vocab, unkToken, prefix, maxInputCharsPerWord, inverse(vocab));
        }

        public int[] tokenize(String w) {
            Integer unk = vocab.get(unkToken);
            if (unk == null) throw new IllegalStateException("WordPiece: the unknown token '" + unkToken + "' is not in the vocabulary");
            if (w.codePointCount(0, w.length()) > maxInputCharsPerWord) return new int[] {unk};
            List<Integer> ids = new ArrayList<>();
            int start = 0;
            while (start < w.length()) {
                int end = w.length();
                Integer cur = null;
                while (start < end) {
                    String sub = w.substring(start, end);
                    if (start > 0) sub = prefix + sub;
                    cur = vocab.get(sub);
                    if (cur != null) break;
                    end -= Character.charCount(w.codePointBefore(end));
                }
                if (cur == null) return new int[] {unk};
                ids.add(cur);
                start = end;
            }
            return toArray(ids);
        }

        public Integer tokenToId(String token) {
            return vocab.get(token);
        }

        public String idToToken(int id) {
            return id >= 0 && id < inv.length ? inv[id] : null;
        }

        public int vocabSize() {
            return vocab.size();
        }

        public ObjectNode toJson() {
            ObjectNode o = F.objectNode();
            o.put("type", "WordPiece");
            o.put("unk_token", unkToken);
            o.put("continuing_subword_prefix", prefix);
            o.put("max_input_chars_per_word", maxInputCharsPerWord);
            o.set("vocab", vocabJson(vocab));
            return o;
        }
    }

    /**
     * SentencePiece's unigram model: the segmentation with the highest total log-probability (Viterbi). A character no
     * piece covers scores {@code min score - 10} as the unknown token; runs of unknowns fuse into one.
     */
    final class Unigram implements Model {
        final List<String> pieces;
        final double[] scores;
        final Map<String, Integer> ids = new HashMap<>();
        final Integer unkId;
        final boolean byteFallback;
        final double minScore;
        final int maxPieceLen; // in code points

        public Unigram(List<String> pieces, double[] scores, Integer unkId, boolean byteFallback) {
            this.pieces = pieces;
            this.scores = scores;
            this.unkId = unkId;
            this.byteFallback = byteFallback;
            double min = Double.POSITIVE_INFINITY;
            int maxLen = 1;
            for (int i = 0; i < pieces.size(); i++) {
                ids.put(pieces.get(i), i); // a duplicated piece resolves to its last id, as in the library
                min = Math.min(min, scores[i]);
                maxLen = Math.max(maxLen, pieces.get(i).codePointCount(0, pieces.get(i).length()));
            }
            this.minScore = min;
            this.maxPieceLen = maxLen;
        }

        static Unigram fromJson(JsonNode n) {
            List<String> pieces = new ArrayList<>();
            List<Double> sc = new ArrayList<>();
            for (JsonNode e : n.path("vocab")) {
                pieces.add(e.get(0).asText());
                sc.add(e.get(1).asDouble());
            }
            return new Unigram(pieces, sc.stream().mapToDouble(Double::doubleValue).toArray(),
                    n.hasNonNull("unk_id") ? n.get("unk_id").asInt() : null, n.path("byte_fallback").asBoolean(false));
        }

        public int[] tokenize(String s) {
            if (s.isEmpty()) return new int[0];
            int[] cps = s.codePoints().toArray();
            int n = cps.length;
            double[] best = new double[n + 1];
            int[] from = new int[n + 1], id = new int[n + 1];
            java.util.Arrays.fill(from, -1);
            double unkScore = minScore - 10.0;
            for (int start = 0; start < n; start++) {
                if (start > 0 && from[start] < 0) continue; // unreachable (cannot happen: unknowns cover every char)
                double till = best[start];
                boolean single = false;
                StringBuilder sb = new StringBuilder();
                for (int len = 1; len <= maxPieceLen && start + len <= n; len++) {
                    sb.appendCodePoint(cps[start + len - 1]);
                    Integer tid = ids.get(sb.toString());
                    if (tid == null) continue;
                    double cand = scores[tid] + till;
                    int end = start + len;
                    if (from[end] < 0 || cand > best[end]) {
                        best[end] = cand;
                        from[end] = start;
                        id[end] = tid;
                    }
                    if (len == 1) single = true;
                }
                if (!single) {
                    if (unkId == null) throw new IllegalStateException("Unigram: '" + new String(Character.toChars(cps[start]))
                            + "' is not in the vocabulary and the model has no unk_id");
                    double cand = unkScore + till;
                    if (from[start + 1] < 0 || cand > best[start + 1]) {
                        best[start + 1] = cand;
                        from[start + 1] = start;
                        id[start + 1] = unkId;
                    }
                }
            }
            // Backtrack, fusing consecutive unknowns.
            List<String> strings = new ArrayList<>();
            List<Boolean> unknown = new ArrayList<>();
            for (int end = n; end > 0; ) {
                int st = from[end];
                String piece = new String(cps, st, end - st);
                boolean isUnk = unkId != null && id[end] == unkId;
                if (isUnk && !unknown.isEmpty() && unknown.getLast()) strings.set(strings.size() - 1, piece + strings.getLast());
                else {
                    strings.add(piece);
                    unknown.add(isUnk);
                }
                end = st;
            }
            List<Integer> out = new ArrayList<>();
            for (int i = strings.size() - 1; i >= 0; i--) {
                Integer tid = ids.get(strings.get(i));
                if (tid != null) {
                    out.add(tid);
                    continue;
                }
                List<Integer> bytes = byteFallback ? byteTokens(strings.get(i), ids::get) : null;
                if (bytes != null) out.addAll(bytes);
                else out.add(unkId);
            }
            return toArray(out);
        }

        public Integer tokenToId(String token) {
            return ids.get(token);
        }

        public String idToToken(int i) {
            return i >= 0 && i < pieces.size() ? pieces.get(i) : null;
        }

        public int vocabSize() {
            return pieces.size();
        }

        public ObjectNode toJson() {
            ObjectNode o = F.objectNode();
            o.put("type", "Unigram");
            if (unkId == null) o.putNull("unk_id");
            else o.put("unk_id", unkId);
            ArrayNode v = o.putArray("vocab");
            for (int i = 0; i < pieces.size(); i++) v.addArray().add(pieces.get(i)).add(scores[i]);
            o.put("byte_fallback", byteFallback);
            return o;
        }
    }

    /** Whole pre-tokenized pieces looked up as they are; others become the unknown token. */
    record WordLevel(LinkedHashMap<String, Integer> vocab, String unkToken, String[] inv) implements Model {
        public WordLevel(LinkedHashMap<String, Integer> vocab, String unkToken) {
            this(vocab, unkToken, inverse(vocab));
        }

        public int[] tokenize(String piece) {
            Integer id = vocab.get(piece);
            if (id == null && unkToken != null) id = vocab.get(unkToken);
            if (id == null) throw new IllegalStateException("WordLevel: '" + piece + "' is not in the vocabulary and there is no unk_token");
            return new int[] {id};
        }

        public Integer tokenToId(String token) {
            return vocab.get(token);
        }

        public String idToToken(int id) {
            return id >= 0 && id < inv.length ? inv[id] : null;
        }

        public int vocabSize() {
            return vocab.size();
        }

        public ObjectNode toJson() {
            ObjectNode o = F.objectNode();
            o.put("type", "WordLevel");
            o.set("vocab", vocabJson(vocab));
            putOrNull(o, "unk_token", unkToken);
            return o;
        }
    }
}
