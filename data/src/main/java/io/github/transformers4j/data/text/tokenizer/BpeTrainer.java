package io.github.transformers4j.data.text.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Learns a byte-level BPE vocabulary (GPT-2 / RoBERTa style) from text and builds a {@link Tokenizer} that the Hugging
 * Face library loads: ByteLevel pre-tokenizer and decoder, BPE model, and a {@code $A </s>} template, so every
 * encoded sequence ends with EOS as T5's do.
 *
 * <p>Vocabulary layout: the special tokens first ({@code <pad>} = 0, {@code </s>} = 1, {@code <unk>} = 2, as T5),
 * then the 256 byte symbols, then one token per merge. Since every byte has a symbol, no input is ever unknown.
 *
 * <p>Algorithm: count the pre-tokenized words; repeatedly merge the most frequent adjacent pair (ties: the pair of
 * smaller ids), updating the pair counts of the words that contain it, until the vocabulary is full or the best pair
 * occurs fewer than {@code minFrequency} times.
 */
public final class BpeTrainer {
    public static final List<String> SPECIALS = List.of("<pad>", "</s>", "<unk>");

    private final int vocabSize, minFrequency;
    private final Map<String, Long> wordCounts = new HashMap<>();
    private final PreTokenizer.ByteLevel pre = new PreTokenizer.ByteLevel(false, true, true);

    public BpeTrainer(int vocabSize, int minFrequency) {
        if (vocabSize < SPECIALS.size() + 256)
            throw new IllegalArgumentException("BpeTrainer: vocabSize must be at least " + (SPECIALS.size() + 256) + " (specials and bytes), got " + vocabSize);
        this.vocabSize = vocabSize;
        this.minFrequency = Math.max(1, minFrequency);
    }

    /** Counts the words of one text (call for every document and summary of the corpus). */
    public void feed(String text) {
        for (String w : pre.split(List.of(text), true)) wordCounts.merge(w, 1L, Long::sum);
    }

    public int distinctWords() {
        return wordCounts.size();
    }

    public Tokenizer train() {
        return train(s -> { });
    }

    public Tokenizer train(Consumer<String> log) {
        LinkedHashMap<String, Integer> vocab = new LinkedHashMap<>();
        List<String> tokens = new ArrayList<>();
        for (String s : SPECIALS) {
            vocab.put(s, tokens.size());
            tokens.add(s);
        }
        int[] byteId = new int[512];
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(PreTokenizer.ByteLevel.BYTE_TO_CHAR[b]);
            byteId[PreTokenizer.ByteLevel.BYTE_TO_CHAR[b]] = tokens.size();
            vocab.put(c, tokens.size());
            tokens.add(c);
        }
        // Words as symbol-id arrays, sorted for a deterministic order.
        List<String> words = new ArrayList<>(wordCounts.keySet());
        words.sort(null);
        int nw = words.size();
        int[][] sym = new int[nw][];
        long[] freq = new long[nw];
        for (int i = 0; i < nw; i++) {
            String w = words.get(i);
            sym[i] = new int[w.length()];
            for (int k = 0; k < w.length(); k++) sym[i][k] = byteId[w.charAt(k)];
            freq[i] = wordCounts.get(w);
        }
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, Set<Integer>> where = new HashMap<>();
        for (int i = 0; i < nw; i++) addPairs(sym[i], freq[i], i, pairCount, where);
        PriorityQueue<long[]> heap = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        pairCount.forEach((p, c) -> heap.add(new long[] {c, p}));
        List<String[]> merges = new ArrayList<>();
        while (tokens.size() < vocabSize && !heap.isEmpty()) {
            long[] top = heap.poll();
            long pair = top[1];
            long current = pairCount.getOrDefault(pair, 0L);
            if (current != top[0]) { // stale entry
                if (current > 0) heap.add(new long[] {current, pair});
                continue;
            }
            if (current < minFrequency) break;
            int a = (int) (pair >>> 32), b = (int) pair;
            String merged = tokens.get(a) + tokens.get(b);
            int newId = tokens.size();
            Integer existing = vocab.get(merged);
            if (existing != null) newId = existing; // the same string from another pair: reuse it
            else {
                vocab.put(merged, newId);
                tokens.add(merged);
            }
            merges.add(new String[] {tokens.get(a), tokens.get(b)});
            Set<Integer> ws = where.remove(pair);
            if (ws != null) {
                Set<Long> touched = new HashSet<>();
                for (int wi : ws) {
                    removePairs(sym[wi], freq[wi], wi, pairCount, where, touched);
                    sym[wi] = merge(sym[wi], a, b, newId);
                    addPairs(sym[wi], freq[wi], wi, pairCount, where);
                    collect(sym[wi], touched);
                }
                for (long p : touched) {
                    Long c = pairCount.get(p);
                    if (c != null && c > 0) heap.add(new long[] {c, p});
                }
            }
            pairCount.remove(pair);
            if (merges.size() % 2000 == 0) log.accept(String.format("%,d merges, vocabulary %,d", merges.size(), tokens.size()));
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        specials.put("</s>", vocab.get("</s>"));
        List<AddedToken> added = new ArrayList<>();
        for (String s : SPECIALS) added.add(AddedToken.special(vocab.get(s), s));
        Model.Bpe model = new Model.Bpe(vocab, merges, "<unk>", null, null, false, false, false);
        return new Tokenizer(added, null, pre, model, PostProcessor.Template.of(List.of("$A", "</s>"), specials),
                Decoder.ByteLevel.standard());
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    private static void addPairs(int[] s, long f, int wi, Map<Long, Long> count, Map<Long, Set<Integer>> where) {
        for (int k = 0; k + 1 < s.length; k++) {
            long p = key(s[k], s[k + 1]);
            count.merge(p, f, Long::sum);
            where.computeIfAbsent(p, x -> new HashSet<>()).add(wi);
        }
    }

    private static void removePairs(int[] s, long f, int wi, Map<Long, Long> count, Map<Long, Set<Integer>> where, Set<Long> touched) {
        for (int k = 0; k + 1 < s.length; k++) {
            long p = key(s[k], s[k + 1]);
            count.merge(p, -f, Long::sum);
            Set<Integer> w = where.get(p);
            if (w != null) w.remove(wi);
            touched.add(p);
        }
    }

    private static void collect(int[] s, Set<Long> touched) {
        for (int k = 0; k + 1 < s.length; k++) touched.add(key(s[k], s[k + 1]));
    }

    /** Replaces each non-overlapping occurrence of (a, b), left to right, by id. */
    private static int[] merge(int[] s, int a, int b, int id) {
        int[] out = new int[s.length];
        int n = 0;
        for (int k = 0; k < s.length; k++) {
            if (k + 1 < s.length && s[k] == a && s[k + 1] == b) {
                out[n++] = id;
                k++;
            } else out[n++] = s[k];
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
