package io.github.transformers4j.models.gpt2;

import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.Decoding;
import io.github.transformers4j.nn.transformer.KVCache;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code model.generate(...)} for {@link GPT2LMHeadModel}: greedy search, beam search, or sampling with temperature,
 * top-k and top-p (applied in that order, as transformers' logits warpers), one prompt at a time, decoding
 * incrementally with the KV cache. A sequence stops at EOS (which is returned) or after {@code maxNewTokens}.
 */
public final class TextGeneration {
    private TextGeneration() {}

    /**
     * @param maxNewTokens  most tokens generated after the prompt
     * @param numBeams      1 = greedy or sampling; more = beam search
     * @param doSample      sample from the (warped) distribution instead of taking the most likely token
     * @param temperature   logits divided by this before sampling (> 0)
     * @param topK          keep only the k most likely tokens when sampling (0 = all)
     * @param topP          keep the smallest set of most likely tokens whose probability reaches p (1 = all)
     * @param seed          the sampling generator's seed (the same seed gives the same text)
     * @param lengthPenalty beam search ranks finished hypotheses by sum of log-probs / generated length^lengthPenalty
     * @param eosTokenId    stops a sequence; -1 = never stop early
     */
    public record Config(int maxNewTokens, int numBeams, boolean doSample, double temperature, int topK, double topP, long seed,
                         double lengthPenalty, int eosTokenId) {
        public Config {
            if (maxNewTokens < 1) throw new IllegalArgumentException("generate: maxNewTokens must be >= 1, got " + maxNewTokens);
            if (numBeams < 1) throw new IllegalArgumentException("generate: numBeams must be >= 1, got " + numBeams);
            if (doSample && numBeams > 1) throw new IllegalArgumentException("generate: sampling with beams is not supported; use numBeams 1");
            if (!(temperature > 0)) throw new IllegalArgumentException("generate: temperature must be > 0, got " + temperature);
            if (topK < 0) throw new IllegalArgumentException("generate: topK must be >= 0, got " + topK);
            if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("generate: topP must be in (0, 1], got " + topP);
        }

        public static Config greedy(int maxNewTokens, int eosTokenId) {
            return new Config(maxNewTokens, 1, false, 1, 0, 1, 0, 1, eosTokenId);
        }

        public static Config beam(int numBeams, int maxNewTokens, int eosTokenId) {
            return new Config(maxNewTokens, numBeams, false, 1, 0, 1, 0, 1, eosTokenId);
        }

        public static Config sample(int maxNewTokens, double temperature, int topK, double topP, long seed, int eosTokenId) {
            return new Config(maxNewTokens, 1, true, temperature, topK, topP, seed, 1, eosTokenId);
        }
    }

    /** The generated token ids after the prompt (ending with EOS if it was generated). Runs in eval mode, no gradients. */
    public static int[] generate(GPT2LMHeadModel model, int[] prompt, Config cfg) {
        if (prompt.length == 0) throw new IllegalArgumentException("generate: empty prompt (start with a token, e.g. <|endoftext|>)");
        int room = model.config().nPositions() - prompt.length;
        if (room < 1) throw new IllegalArgumentException("generate: the prompt has " + prompt.length + " tokens; the model takes " + model.config().nPositions());
        cfg = new Config(Math.min(cfg.maxNewTokens(), room), cfg.numBeams(), cfg.doSample(), cfg.temperature(), cfg.topK(), cfg.topP(),
                cfg.seed(), cfg.lengthPenalty(), cfg.eosTokenId());
        boolean wasTraining = model.isTraining();
        model.eval();
        try (var g = Grad.disabled(); var scope = Memory.scope(); KVCache cache = model.transformer.newCache()) {
            return cfg.numBeams() == 1 ? search(model, prompt, cfg, cache) : beam(model, prompt, cfg, cache);
        } finally {
            model.train(wasTraining);
        }
    }

    /** Next-token log-probabilities [rows][vocab] after feeding ids [rows][t] (appended to the cache). */
    private static float[][] step(GPT2LMHeadModel model, int[][] ids, KVCache cache) {
        int rows = ids.length, t = ids[0].length;
        long[] flat = new long[rows * t];
        for (int r = 0; r < rows; r++) for (int j = 0; j < t; j++) flat[r * t + j] = ids[r][j];
        Tensor in = Tensor.ofLongs(flat, rows, t).to(model.transformer.wte.weight.data().device());
        try (var s = Memory.scope()) {
            ModelOutput o = model.forward(in, null, cache, ModelOutput.Want.NONE);
            float[] lp = o.logits().narrow(1, t - 1, 1).reshape(rows, -1).logSoftmax(-1).toFloatArray();
            int v = lp.length / rows;
            float[][] out = new float[rows][];
            for (int r = 0; r < rows; r++) out[r] = Arrays.copyOfRange(lp, r * v, (r + 1) * v);
            return out;
        }
    }

    private static int[] search(GPT2LMHeadModel model, int[] prompt, Config cfg, KVCache cache) {
        SplittableRandom rng = new SplittableRandom(cfg.seed());
        List<Integer> out = new ArrayList<>();
        float[] lp = step(model, new int[][] {prompt}, cache)[0];
        while (true) {
            int tok = cfg.doSample() ? sample(lp, cfg, rng) : Decoding.argmax(lp);
            out.add(tok);
            if (tok == cfg.eosTokenId() || out.size() == cfg.maxNewTokens()) break;
            lp = step(model, new int[][] {{tok}}, cache)[0];
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Temperature, top-k, top-p (transformers' order), then one draw from what is left. */
    static int sample(float[] logProbs, Config cfg, SplittableRandom rng) {
        int v = logProbs.length;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -logProbs[i]).thenComparingInt(i -> i));
        int keep = cfg.topK() > 0 ? Math.min(cfg.topK(), v) : v;
        double[] p = new double[keep];
        double max = logProbs[order[0]] / cfg.temperature(), sum = 0;
        for (int i = 0; i < keep; i++) sum += p[i] = Math.exp(logProbs[order[i]] / cfg.temperature() - max);
        if (cfg.topP() < 1) { // the smallest prefix whose probability reaches topP (at least one token)
            double cum = 0;
            int n = 0;
            while (n < keep && cum < cfg.topP() * sum) cum += p[n++];
            keep = Math.max(1, n);
            sum = cum;
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < keep; i++) if ((u -= p[i]) < 0) return order[i];
        return order[keep - 1];
    }

    /**
     * Beam search as transformers': each step keeps the 2k best continuations over all beams, moves those ending in EOS
     * (among the first k) to the finished hypotheses (scored sum log-prob / length^lengthPenalty), continues with the k
     * best others, and stops once k hypotheses are finished and no live beam can beat the worst of them.
     */
    private static int[] beam(GPT2LMHeadModel model, int[] prompt, Config cfg, KVCache cache) {
        int k = cfg.numBeams(), eos = cfg.eosTokenId();
        float[] first = step(model, new int[][] {prompt}, cache)[0];
        cache.reorder(Tensor.ofLongs(new long[k], k).to(model.transformer.wte.weight.data().device())); // k copies of the prompt's cache
        int[][] seq = new int[k][0];
        double[] score = new double[k];
        Arrays.fill(score, 1, k, Double.NEGATIVE_INFINITY); // the first step expands beam 0 only
        float[][] lp = new float[k][];
        Arrays.fill(lp, first);
        List<Decoding.Hyp> finished = new ArrayList<>();
        boolean done = false;
        for (int t = 0; t < cfg.maxNewTokens() && !done; t++) {
            int want = 2 * k;
            double[] cs = new double[want];
            int[] cb = new int[want], ct = new int[want];
            Arrays.fill(cs, Double.NEGATIVE_INFINITY);
            Arrays.fill(cb, -1);
            for (int r = 0; r < k; r++) {
                if (score[r] == Double.NEGATIVE_INFINITY) continue;
                for (int v = 0; v < lp[r].length; v++) {
                    double c = score[r] + lp[r][v];
                    if (c > cs[want - 1]) Decoding.insert(cs, cb, ct, c, r, v);
                }
            }
            int[][] next = new int[k][];
            double[] nextScore = new double[k];
            int[] parent = new int[k];
            int live = 0;
            for (int c = 0; c < want && live < k && cb[c] >= 0; c++) {
                int[] s = Decoding.append(seq[cb[c]], ct[c]);
                if (ct[c] == eos) {
                    if (c < k) Decoding.addHyp(finished, new Decoding.Hyp(s, cs[c] / Math.pow(s.length, cfg.lengthPenalty())), k);
                } else {
                    parent[live] = cb[c];
                    next[live] = s;
                    nextScore[live++] = cs[c];
                }
            }
            for (; live < k; live++) {
                parent[live] = 0;
                next[live] = Decoding.append(seq[0], 0);
                nextScore[live] = Double.NEGATIVE_INFINITY;
            }
            seq = next;
            score = nextScore;
            double bestLive = Arrays.stream(score).max().orElseThrow();
            if (finished.size() >= k) {
                double worst = finished.stream().mapToDouble(Decoding.Hyp::score).min().orElseThrow();
                done = bestLive == Double.NEGATIVE_INFINITY || worst >= bestLive / Math.pow(t + 1, cfg.lengthPenalty());
            }
            if (!done && t + 1 < cfg.maxNewTokens()) {
                cache.reorder(Tensor.ofLongs(Arrays.stream(parent).asLongStream().toArray(), k).to(model.transformer.wte.weight.data().device()));
                int[][] last = new int[k][];
                for (int r = 0; r < k; r++) last[r] = new int[] {seq[r][seq[r].length - 1]};
                lp = step(model, last, cache);
            }
        }
        if (!done) for (int r = 0; r < k; r++) // out of length: live beams count as hypotheses
            if (score[r] != Double.NEGATIVE_INFINITY) Decoding.addHyp(finished, new Decoding.Hyp(seq[r], score[r] / Math.pow(seq[r].length, cfg.lengthPenalty())), k);
        return finished.stream().max(Comparator.comparingDouble(Decoding.Hyp::score)).map(Decoding.Hyp::tokens).orElse(new int[0]);
    }

}
