package io.github.transformers4j.models.seq2seq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class Seq2SeqTransformerTest {
    static final int V = 50, PAD = 0, EOS = 1;

    static Seq2SeqTransformer tiny(long seed) {
        return new Seq2SeqTransformer(new Seq2SeqConfig(V, 32, 2, 2, 4, 64, 0.1, 64, PAD, EOS), new Random4j(seed));
    }

    static Tensor ids(long[][] rows) {
        int b = rows.length, l = rows[0].length;
        long[] flat = new long[b * l];
        for (int i = 0; i < b; i++) System.arraycopy(rows[i], 0, flat, i * l, l);
        return Tensor.ofLongs(flat, b, l);
    }

    @Test
    void stateDictKeysFollowTheReferenceModel() {
        var keys = tiny(0).stateDict().keySet();
        assertThat(keys).contains("emb.weight", "pos.weight", "ln.weight", "ln.bias", "head.bias",
                "tf.encoder.layers.0.self_attn.in_proj_weight", "tf.encoder.norm.weight",
                "tf.decoder.layers.1.multihead_attn.in_proj_weight", "tf.decoder.norm.bias");
        assertThat(keys).doesNotContain("head.weight"); // tied: it is emb.weight
    }

    @Test
    void aFutureTargetTokenNeverChangesEarlierLogits() {
        Seq2SeqTransformer m = tiny(1);
        m.eval();
        Tensor src = ids(new long[][] {{5, 6, 7, 8, 1}, {9, 10, 1, 0, 0}});
        long[][] a = {{1, 11, 12, 13, 14, 15}, {1, 20, 21, 22, 23, 24}};
        long[][] b = {{1, 11, 12, 13, 40, 41}, {1, 20, 21, 22, 45, 46}}; // differ from position 4 on
        try (var g = Grad.disabled()) {
            float[] la = m.forward(src, ids(a)).toFloatArray(), lb = m.forward(src, ids(b)).toFloatArray();
            int t = 6;
            for (int row = 0; row < 2; row++) {
                for (int pos = 0; pos < t; pos++) {
                    boolean same = true;
                    double maxDiff = 0;
                    for (int v = 0; v < V; v++) {
                        int k = (row * t + pos) * V + v;
                        maxDiff = Math.max(maxDiff, Math.abs(la[k] - lb[k]));
                    }
                    if (pos < 4) assertThat(maxDiff).as("row %d position %d", row, pos).isLessThan(1e-5);
                    else assertThat(maxDiff).as("row %d position %d must see its own input", row, pos).isGreaterThan(1e-4);
                }
            }
        }
    }

    @Test
    void sourcePaddingDoesNotChangeTheOutput() {
        Seq2SeqTransformer m = tiny(2);
        m.eval();
        try (var g = Grad.disabled()) {
            float[] short_ = m.forward(ids(new long[][] {{5, 6, 7, 1}}), ids(new long[][] {{1, 8, 9}})).toFloatArray();
            float[] padded = m.forward(ids(new long[][] {{5, 6, 7, 1, 0, 0, 0}}), ids(new long[][] {{1, 8, 9}})).toFloatArray();
            for (int i = 0; i < short_.length; i++) assertThat(padded[i]).isCloseTo(short_[i], within(1e-5f));
        }
    }

    @Test
    void lossIgnoresMinus100Labels() {
        Seq2SeqTransformer m = tiny(3);
        m.eval();
        try (var g = Grad.disabled()) {
            Tensor logits = m.forward(ids(new long[][] {{5, 6, 1}}), ids(new long[][] {{1, 7, 8}}));
            double all = Seq2SeqTransformer.loss(logits, ids(new long[][] {{7, 8, 1}})).item();
            double two = Seq2SeqTransformer.loss(logits, ids(new long[][] {{7, 8, -100}})).item();
            float[] lp = logits.logSoftmax(-1).toFloatArray();
            double expectedTwo = -(lp[7] + lp[V + 8]) / 2; // mean over the two kept positions, from the log-softmax
            assertThat(two).isCloseTo(expectedTwo, within(1e-5));
            assertThat(all).isCloseTo(-(lp[7] + lp[V + 8] + lp[2 * V + 1]) / 3, within(1e-5));
        }
    }

    @Test
    void tooLongInputsFailWithAClearMessage() {
        Seq2SeqTransformer m = tiny(4);
        long[] row = new long[80];
        java.util.Arrays.fill(row, 5);
        assertThatThrownBy(() -> m.forward(ids(new long[][] {row}), ids(new long[][] {{1}})))
                .hasMessageContaining("80 positions exceed max_positions 64");
    }

    @Test
    void cachedAndRecomputedGreedyDecodingAgree() {
        Seq2SeqTransformer m = tiny(5);
        Tensor src = ids(new long[][] {{5, 6, 7, 8, 9, 1}, {10, 11, 12, 1, 0, 0}, {13, 1, 0, 0, 0, 0}});
        var cfg = GenerationConfig.greedy(12);
        List<int[]> cached = Generator.generate(m, src, cfg), full = Generator.generate(m, src, cfg.withCache(false));
        assertThat(cached).hasSize(3);
        for (int i = 0; i < 3; i++) assertThat(cached.get(i)).as("example %d", i).containsExactly(full.get(i));
        assertThat(cached.stream().mapToInt(a -> a.length).sum()).as("something was generated").isPositive();
    }

    @Test
    void cachedAndRecomputedBeamSearchAgree() {
        Seq2SeqTransformer m = tiny(6);
        Tensor src = ids(new long[][] {{5, 6, 7, 8, 9, 1}, {10, 11, 12, 1, 0, 0}});
        var cfg = new GenerationConfig(10, 2, 3, 1.2, 2, true);
        List<int[]> cached = Generator.generate(m, src, cfg), full = Generator.generate(m, src, cfg.withCache(false));
        for (int i = 0; i < 2; i++) {
            assertThat(cached.get(i)).as("example %d", i).containsExactly(full.get(i));
            assertThat(cached.get(i).length).isGreaterThanOrEqualTo(2); // minLength
        }
    }

    @Test
    void noRepeatNgramForbidsRepeatedBigrams() {
        Seq2SeqTransformer m = tiny(7);
        Tensor src = ids(new long[][] {{5, 5, 5, 5, 1}});
        var cfg = new GenerationConfig(30, 30, 1, 1.0, 2, true); // minLength 30: must not stop, so repetition pressure is high
        int[] out = Generator.generate(m, src, cfg).getFirst();
        assertThat(out).hasSize(30);
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i + 1 < out.length; i++) assertThat(seen.add((long) out[i] * V + out[i + 1])).as("bigram at %d", i).isTrue();
        for (int t : out) assertThat(t).isNotEqualTo(PAD);
    }

    @Test
    void beamSearchFindsAtLeastTheGreedyScore() {
        Seq2SeqTransformer m = tiny(8);
        Tensor src = ids(new long[][] {{5, 6, 7, 1}});
        int[] greedy = Generator.generate(m, src, GenerationConfig.greedy(8)).getFirst();
        int[] beam = Generator.generate(m, src, new GenerationConfig(8, 0, 4, 0.0, 0, true)).getFirst();
        assertThat(logProb(m, src, beam)).isGreaterThanOrEqualTo(logProb(m, src, greedy) - 1e-4);
    }

    /** Sum of log-probabilities of the tokens and the final EOS (if the output stopped before the length limit). */
    private static double logProb(Seq2SeqTransformer m, Tensor src, int[] out) {
        m.eval();
        long[] dec = new long[out.length + 1];
        dec[0] = EOS;
        for (int i = 0; i < out.length; i++) dec[i + 1] = out[i];
        try (var g = Grad.disabled()) {
            float[] lp = m.forward(src, Tensor.ofLongs(dec, 1, dec.length)).logSoftmax(-1).toFloatArray();
            double s = 0;
            for (int i = 0; i < out.length; i++) s += lp[i * V + out[i]];
            if (out.length < 8) s += lp[out.length * V + EOS];
            return s;
        }
    }
}
