package io.github.transformers4j.train.rouge;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L (sentence-level LCS) F1, as the rouge-score package computes them: lowercase, replace
 * every run of characters other than a-z and 0-9 by a space, split on spaces, and (with {@code stem}) apply the
 * {@link PorterStemmer} to tokens longer than 3 characters. Precision divides the overlap by the prediction's count,
 * recall by the reference's; F1 is 0 when both are 0. A corpus score is the mean of the per-example scores.
 */
public final class Rouge {
    private final boolean stem;

    public Rouge(boolean stem) {
        this.stem = stem;
    }

    /** Precision, recall and F1 of one measure. */
    public record Score(double precision, double recall, double f1) {
        static Score of(double overlap, int predicted, int reference) {
            double p = predicted == 0 ? 0 : overlap / predicted, r = reference == 0 ? 0 : overlap / reference;
            return new Score(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
        }
    }

    /** The three measures of one (prediction, reference) pair. */
    public record Scores(Score rouge1, Score rouge2, Score rougeL) {}

    public List<String> tokenize(String text) {
        String t = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ").strip();
        List<String> out = new ArrayList<>();
        if (t.isEmpty()) return out;
        for (String w : t.split(" ")) out.add(stem && w.length() > 3 ? PorterStemmer.stem(w) : w);
        return out;
    }

    public Scores score(String prediction, String reference) {
        List<String> p = tokenize(prediction), r = tokenize(reference);
        return new Scores(ngram(p, r, 1), ngram(p, r, 2), Score.of(lcs(p, r), p.size(), r.size()));
    }

    static Score ngram(List<String> p, List<String> r, int n) {
        Map<List<String>, Integer> pc = counts(p, n), rc = counts(r, n);
        int overlap = 0;
        for (var e : pc.entrySet()) overlap += Math.min(e.getValue(), rc.getOrDefault(e.getKey(), 0));
        return Score.of(overlap, Math.max(0, p.size() - n + 1), Math.max(0, r.size() - n + 1));
    }

    private static Map<List<String>, Integer> counts(List<String> t, int n) {
        Map<List<String>, Integer> m = new HashMap<>();
        for (int i = 0; i + n <= t.size(); i++) m.merge(List.copyOf(t.subList(i, i + n)), 1, Integer::sum);
        return m;
    }

    /** Length of the longest common subsequence. */
    static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1], cur = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    /** Mean F1 (and precision, recall) of each measure over a corpus, in [0, 1]. */
    public record Corpus(int n, Score rouge1, Score rouge2, Score rougeL) {
        public String format() {
            return String.format(Locale.ROOT, "ROUGE-1 %.2f  ROUGE-2 %.2f  ROUGE-L %.2f  (F1 x 100, %d examples)",
                    100 * rouge1.f1(), 100 * rouge2.f1(), 100 * rougeL.f1(), n);
        }
    }

    public Corpus corpus(List<String> predictions, List<String> references) {
        if (predictions.size() != references.size())
            throw new IllegalArgumentException("ROUGE: " + predictions.size() + " predictions for " + references.size() + " references");
        double[] sum = new double[9];
        for (int i = 0; i < predictions.size(); i++) {
            Scores s = score(predictions.get(i), references.get(i));
            Score[] all = {s.rouge1(), s.rouge2(), s.rougeL()};
            for (int m = 0; m < 3; m++) {
                sum[3 * m] += all[m].precision();
                sum[3 * m + 1] += all[m].recall();
                sum[3 * m + 2] += all[m].f1();
            }
        }
        int n = Math.max(1, predictions.size());
        Score[] mean = new Score[3];
        for (int m = 0; m < 3; m++) mean[m] = new Score(sum[3 * m] / n, sum[3 * m + 1] / n, sum[3 * m + 2] / n);
        return new Corpus(predictions.size(), mean[0], mean[1], mean[2]);
    }

    /** The lead baseline: the document's first {@code n} whitespace-separated words. */
    public static String lead(String document, int n) {
        String[] w = document.strip().split("\\s+");
        if (document.isBlank()) return "";
        return String.join(" ", java.util.Arrays.copyOf(w, Math.min(n, w.length)));
    }
}
