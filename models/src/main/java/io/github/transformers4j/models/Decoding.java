package io.github.transformers4j.models;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** The bookkeeping that greedy and beam-search decoders share (seq2seq's {@code Generator}, GPT-2's {@code TextGeneration}). */
public final class Decoding {
    private Decoding() {}

    /** A finished (or, at the length limit, live) beam: its tokens and its length-penalised score. */
    public record Hyp(int[] tokens, double score) {}

    /** Adds {@code h}, keeping the best {@code k}. */
    public static void addHyp(List<Hyp> finished, Hyp h, int k) {
        finished.add(h);
        if (finished.size() > k) finished.remove(finished.stream().min(Comparator.comparingDouble(Hyp::score)).orElseThrow());
    }

    /** Inserts candidate (score c, beam r, token v) into the descending arrays, dropping the last. Ties keep the earlier first. */
    public static void insert(double[] cs, int[] cb, int[] ct, double c, int r, int v) {
        int i = cs.length - 1;
        while (i > 0 && cs[i - 1] < c) {
            cs[i] = cs[i - 1];
            cb[i] = cb[i - 1];
            ct[i] = ct[i - 1];
            i--;
        }
        cs[i] = c;
        cb[i] = r;
        ct[i] = v;
    }

    /** The index of the largest value (the first of ties). */
    public static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }

    public static int[] append(int[] a, int x) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = x;
        return r;
    }
}
