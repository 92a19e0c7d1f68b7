package io.github.transformers4j.models.seq2seq;

import io.github.transformers4j.models.Decoding;
import io.github.transformers4j.nn.transformer.KVCache;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Greedy and beam-search decoding for a {@link Seq2SeqTransformer}. The encoder runs once per batch; the decoder
 * runs one token per step, either incrementally with cached self-attention keys and values ({@code useCache}) or by
 * recomputing the whole prefix (for checking: both give the same tokens). The decoder starts from EOS (the start
 * token); a sequence ends at EOS or after {@code maxLength} tokens. The pad token is never generated.
 *
 * <p>Beam search follows Hugging Face's: each step keeps the {@code 2 * beams} best continuations of every example,
 * moves those ending in EOS to the example's finished hypotheses (scored sum log-prob / length^lengthPenalty, length
 * counting EOS), continues with the best {@code beams} others, and stops an example once it has {@code beams}
 * finished hypotheses and no live beam can beat the worst of them.
 */
public final class Generator {
    private Generator() {}

    /**
     * Generates summaries for a batch of source ids (B, S) (right-padded with the pad id). Returns, per example, the
     * generated ids without the start token and without the final EOS. Runs in eval mode without gradients; the model's
     * mode is restored.
     */
    public static List<int[]> generate(Seq2SeqTransformer model, Tensor inputIds, GenerationConfig cfg) {
        boolean wasTraining = model.isTraining();
        model.eval();
        try (var g = Grad.disabled(); var scope = Memory.scope()) {
            return cfg.beamSize() == 1 ? greedy(model, inputIds, cfg) : beam(model, inputIds, cfg);
        } finally {
            model.train(wasTraining);
        }
    }

    /** Next-token log-probabilities for the live rows, from the cache or by recomputing the prefix. */
    private static final class Stepper implements AutoCloseable {
        final Seq2SeqTransformer model;
        final boolean useCache;
        Tensor memory, srcPad;
        KVCache cache;

        Stepper(Seq2SeqTransformer model, Tensor inputIds, int[] rowOfExample, boolean useCache) {
            this.model = model;
            this.useCache = useCache;
            Tensor pad = model.paddingMask(inputIds);
            Tensor mem = model.encode(inputIds, pad);
            if (rowOfExample != null) {
                Tensor idx = Tensor.ofLongs(Arrays.stream(rowOfExample).asLongStream().toArray(), rowOfExample.length).to(inputIds.device());
                mem = mem.indexSelect(0, idx);
                pad = pad.indexSelect(0, idx);
            }
            memory = mem;
            srcPad = pad;
            if (useCache) cache = model.newCache();
        }

        /** prefixes: rows x (t) tokens including the start token; returns log-probs [rows][vocab] of the next token. */
        float[][] next(int[][] prefixes) {
            int rows = prefixes.length, t = prefixes[0].length;
            try (var step = Memory.scope()) {
                Tensor logits;
                if (useCache) {
                    long[] last = new long[rows];
                    for (int r = 0; r < rows; r++) last[r] = prefixes[r][t - 1];
                    logits = model.decodeStep(Tensor.ofLongs(last, rows, 1).to(memory.device()), memory, srcPad, cache);
                } else {
                    long[] all = new long[rows * t];
                    for (int r = 0; r < rows; r++) for (int j = 0; j < t; j++) all[r * t + j] = prefixes[r][j];
                    Tensor full = model.decode(Tensor.ofLongs(all, rows, t).to(memory.device()), memory, srcPad);
                    logits = full.narrow(1, t - 1, 1);
                }
                float[] lp = logits.reshape(rows, -1).logSoftmax(-1).toFloatArray();
                int v = lp.length / rows;
                float[][] out = new float[rows][];
                for (int r = 0; r < rows; r++) out[r] = Arrays.copyOfRange(lp, r * v, (r + 1) * v);
                return out;
            }
        }

        void reorder(int[] rows) {
            if (cache != null) cache.reorder(Tensor.ofLongs(Arrays.stream(rows).asLongStream().toArray(), rows.length).to(memory.device()));
        }

        @Override
        public void close() {
            if (cache != null) cache.release();
        }
    }

    /** Sets forbidden next tokens to -inf: pad always, EOS before minLength, tokens completing a repeated n-gram. */
    private static void ban(float[] lp, int[] prefix, Seq2SeqTransformer model, GenerationConfig cfg) {
        lp[model.config.padId()] = Float.NEGATIVE_INFINITY;
        int generated = prefix.length - 1; // tokens after the start token
        if (generated < cfg.minLength()) lp[model.config.eosId()] = Float.NEGATIVE_INFINITY;
        int n = cfg.noRepeatNgramSize();
        if (n > 0 && generated + 1 >= n) {
            // the last n-1 generated tokens followed by x must not equal an earlier n-gram of the output
            int start = prefix.length - (n - 1);
            for (int i = 1; i + n - 1 <= prefix.length - 1; i++) { // n-grams of generated tokens: prefix[i .. i+n-1]
                boolean same = true;
                for (int k = 0; k < n - 1 && same; k++) same = prefix[i + k] == prefix[start + k];
                if (same && i + n - 1 < prefix.length) lp[prefix[i + n - 1]] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    private static List<int[]> greedy(Seq2SeqTransformer model, Tensor inputIds, GenerationConfig cfg) {
        int b = inputIds.size(0), eos = model.config.eosId(), pad = model.config.padId();
        int[][] seq = new int[b][];
        for (int i = 0; i < b; i++) seq[i] = new int[] {eos};
        boolean[] done = new boolean[b];
        try (Stepper s = new Stepper(model, inputIds, null, cfg.useCache())) {
            for (int t = 0; t < cfg.maxLength(); t++) {
                float[][] lp = s.next(seq);
                boolean all = true;
                for (int i = 0; i < b; i++) {
                    int tok = pad;
                    if (!done[i]) {
                        ban(lp[i], seq[i], model, cfg);
                        tok = Decoding.argmax(lp[i]);
                        if (tok == eos) done[i] = true;
                    }
                    seq[i] = Decoding.append(seq[i], tok);
                    all &= done[i];
                }
                if (all) break;
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int[] s : seq) out.add(strip(s, eos, pad));
        return out;
    }

    private static List<int[]> beam(Seq2SeqTransformer model, Tensor inputIds, GenerationConfig cfg) {
        int b = inputIds.size(0), k = cfg.beamSize(), n = b * k, eos = model.config.eosId(), pad = model.config.padId();
        int[] rowOfExample = new int[n];
        for (int r = 0; r < n; r++) rowOfExample[r] = r / k;
        int[][] seq = new int[n][];
        double[] score = new double[n];
        for (int r = 0; r < n; r++) {
            seq[r] = new int[] {eos};
            score[r] = r % k == 0 ? 0 : Double.NEGATIVE_INFINITY; // the first step expands beam 0 only
        }
        List<List<Decoding.Hyp>> finished = new ArrayList<>();
        for (int i = 0; i < b; i++) finished.add(new ArrayList<>());
        boolean[] done = new boolean[b];
        try (Stepper s = new Stepper(model, inputIds, rowOfExample, cfg.useCache())) {
            for (int t = 0; t < cfg.maxLength(); t++) {
                float[][] lp = s.next(seq);
                int[][] nextSeq = new int[n][];
                double[] nextScore = new double[n];
                int[] parent = new int[n];
                for (int ex = 0; ex < b; ex++) {
                    int base = ex * k;
                    if (done[ex]) { // keep feeding padding
                        for (int j = 0; j < k; j++) {
                            parent[base + j] = base + j;
                            nextSeq[base + j] = Decoding.append(seq[base + j], pad);
                            nextScore[base + j] = score[base + j];
                        }
                        continue;
                    }
                    // the 2k best (score, beam, token) over all beams of the example
                    int want = 2 * k;
                    double[] cs = new double[want];
                    int[] cb = new int[want], ct = new int[want];
                    Arrays.fill(cs, Double.NEGATIVE_INFINITY);
                    Arrays.fill(cb, -1);
                    for (int j = 0; j < k; j++) {
                        int r = base + j;
                        if (score[r] == Double.NEGATIVE_INFINITY) continue;
                        ban(lp[r], seq[r], model, cfg);
                        for (int v = 0; v < lp[r].length; v++) {
                            double c = score[r] + lp[r][v];
                            if (c > cs[want - 1]) Decoding.insert(cs, cb, ct, c, r, v);
                        }
                    }
                    int live = 0;
                    for (int c = 0; c < want && live < k; c++) {
                        if (cb[c] < 0 || cs[c] == Double.NEGATIVE_INFINITY) break;
                        if (ct[c] == eos) {
                            if (c >= k) continue; // an EOS outside the top k is not taken
                            int len = seq[cb[c]].length; // generated tokens including this EOS
                            Decoding.addHyp(finished.get(ex), new Decoding.Hyp(Arrays.copyOfRange(seq[cb[c]], 1, seq[cb[c]].length), cs[c] / Math.pow(len, cfg.lengthPenalty())), k);
                        } else {
                            parent[base + live] = cb[c];
                            nextSeq[base + live] = Decoding.append(seq[cb[c]], ct[c]);
                            nextScore[base + live] = cs[c];
                            live++;
                        }
                    }
                    for (; live < k; live++) { // fewer continuations than beams (tiny vocabularies)
                        parent[base + live] = base;
                        nextSeq[base + live] = Decoding.append(seq[base], pad);
                        nextScore[base + live] = Double.NEGATIVE_INFINITY;
                    }
                    List<Decoding.Hyp> fin = finished.get(ex);
                    if (fin.size() >= k) {
                        double worst = fin.stream().mapToDouble(Decoding.Hyp::score).min().orElseThrow();
                        double bestLive = Arrays.stream(nextScore, base, base + k).max().orElseThrow();
                        double curLen = t + 1;
                        if (worst >= bestLive / Math.pow(curLen, cfg.lengthPenalty()) || bestLive == Double.NEGATIVE_INFINITY) done[ex] = true;
                    }
                }
                seq = nextSeq;
                score = nextScore;
                s.reorder(parent);
                boolean all = true;
                for (boolean d : done) all &= d;
                if (all) break;
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int ex = 0; ex < b; ex++) {
            List<Decoding.Hyp> fin = finished.get(ex);
            if (!done[ex]) { // out of length: live beams count as hypotheses
                for (int j = 0; j < k; j++) {
                    int r = ex * k + j;
                    if (score[r] == Double.NEGATIVE_INFINITY) continue;
                    Decoding.addHyp(fin, new Decoding.Hyp(Arrays.copyOfRange(seq[r], 1, seq[r].length), score[r] / Math.pow(seq[r].length - 1, cfg.lengthPenalty())), k);
                }
            }
            Decoding.Hyp best = fin.stream().max(Comparator.comparingDouble(Decoding.Hyp::score)).orElse(new Decoding.Hyp(new int[0], 0));
            out.add(strip(best.tokens(), eos, pad));
        }
        return out;
    }

    /** Drops a leading start token (EOS), everything from the first EOS on, and padding. */
    private static int[] strip(int[] s, int eos, int pad) {
        int from = s.length > 0 && s[0] == eos ? 1 : 0;
        List<Integer> out = new ArrayList<>();
        for (int i = from; i < s.length; i++) {
            if (s[i] == eos) break;
            if (s[i] != pad) out.add(s[i]);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
