package io.github.transformers4j.train;

import java.util.Arrays;
import java.util.List;

/**
 * Counts of (true class, predicted class) pairs: {@code count(t, p)} is how many samples of class {@code t} were
 * predicted as {@code p}. Rows are true classes, columns predictions (as sklearn's confusion_matrix).
 */
public final class ConfusionMatrix {
    private final long[][] counts;

    public ConfusionMatrix(int numClasses) {
        if (numClasses <= 0) throw new IllegalArgumentException("ConfusionMatrix: numClasses must be positive, got " + numClasses);
        this.counts = new long[numClasses][numClasses];
    }

    /** A matrix from given counts (rows true, columns predicted); copied. */
    public static ConfusionMatrix of(long[][] counts) {
        ConfusionMatrix m = new ConfusionMatrix(counts.length);
        for (int t = 0; t < counts.length; t++) {
            if (counts[t].length != counts.length)
                throw new IllegalArgumentException("ConfusionMatrix.of: row " + t + " has " + counts[t].length
                        + " columns, expected " + counts.length);
            System.arraycopy(counts[t], 0, m.counts[t], 0, counts.length);
        }
        return m;
    }

    public int numClasses() {
        return counts.length;
    }

    public void add(int trueClass, int predicted) {
        check(trueClass, "true class");
        check(predicted, "prediction");
        counts[trueClass][predicted]++;
    }

    public void addAll(long[] trueClasses, long[] predicted) {
        if (trueClasses.length != predicted.length)
            throw new IllegalArgumentException("ConfusionMatrix.addAll: " + trueClasses.length + " labels but "
                    + predicted.length + " predictions");
        for (int i = 0; i < trueClasses.length; i++) add((int) trueClasses[i], (int) predicted[i]);
    }

    public void addAll(ConfusionMatrix other) {
        if (other.numClasses() != numClasses())
            throw new IllegalArgumentException("ConfusionMatrix.addAll: " + other.numClasses() + " classes vs " + numClasses());
        for (int t = 0; t < counts.length; t++)
            for (int p = 0; p < counts.length; p++) counts[t][p] += other.counts[t][p];
    }

    private void check(int c, String what) {
        if (c < 0 || c >= counts.length)
            throw new IllegalArgumentException("ConfusionMatrix: " + what + " " + c + " outside 0.." + (counts.length - 1));
    }

    public long count(int trueClass, int predicted) {
        return counts[trueClass][predicted];
    }

    /** A copy of the counts, rows true classes. */
    public long[][] counts() {
        long[][] c = new long[counts.length][];
        for (int i = 0; i < c.length; i++) c[i] = counts[i].clone();
        return c;
    }

    public long total() {
        long n = 0;
        for (long[] row : counts) for (long v : row) n += v;
        return n;
    }

    public long correct() {
        long n = 0;
        for (int i = 0; i < counts.length; i++) n += counts[i][i];
        return n;
    }

    /** Fraction of samples on the diagonal (0 when empty). */
    public double accuracy() {
        long n = total();
        return n == 0 ? 0 : (double) correct() / n;
    }

    /** Samples whose true class is {@code c} (the row sum). */
    public long support(int c) {
        return Arrays.stream(counts[c]).sum();
    }

    /** Samples predicted as {@code c} (the column sum). */
    public long predictedCount(int c) {
        long n = 0;
        for (long[] row : counts) n += row[c];
        return n;
    }

    /** Per-class and averaged metrics; see {@link ClassificationReport}. */
    public ClassificationReport report(List<String> classNames) {
        return ClassificationReport.of(this, classNames);
    }

    /** The matrix as text: a header of predicted-class indices, one row per true class. */
    public String format(List<String> classNames) {
        int n = counts.length;
        int nameWidth = "true \\ pred".length();
        for (int i = 0; i < n; i++) nameWidth = Math.max(nameWidth, label(classNames, i).length());
        long max = 0;
        for (long[] row : counts) for (long v : row) max = Math.max(max, v);
        int cell = Math.max(String.valueOf(max).length(), String.valueOf(n - 1).length()) + 1;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-" + nameWidth + "s", "true \\ pred"));
        for (int p = 0; p < n; p++) sb.append(String.format("%" + cell + "d", p));
        sb.append('\n');
        for (int t = 0; t < n; t++) {
            sb.append(String.format("%-" + nameWidth + "s", label(classNames, t)));
            for (int p = 0; p < n; p++) sb.append(String.format("%" + cell + "d", counts[t][p]));
            sb.append('\n');
        }
        return sb.toString();
    }

    static String label(List<String> classNames, int i) {
        String name = classNames != null && i < classNames.size() ? classNames.get(i) : null;
        return name == null ? String.valueOf(i) : i + " " + name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfusionMatrix m && Arrays.deepEquals(m.counts, counts);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(counts);
    }

    @Override
    public String toString() {
        return format(null);
    }
}
