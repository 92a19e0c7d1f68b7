package io.github.transformers4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Per-class metrics from a confusion matrix, with macro (unweighted mean over classes) and weighted (mean weighted
 * by support) rows, as sklearn's classification_report. For class c with TP, FP, FN, TN counted one-vs-rest:
 * <ul>
 *   <li>accuracy = (TP + TN) / N (one-vs-rest; the overall accuracy is {@link #accuracy()})</li>
 *   <li>recall = TP / (TP + FN), precision = TP / (TP + FP), F1 = 2 P R / (P + R)</li>
 *   <li>IoU (Jaccard) = TP / (TP + FP + FN)</li>
 * </ul>
 * A ratio whose denominator is 0 is 0 (sklearn's zero_division=0).
 */
public record ClassificationReport(List<Row> classes, Row macro, Row weighted, double accuracy, long total) {

    /** One line of the table; {@code support} is the number of true samples of the class (or of all classes). */
    public record Row(String name, double accuracy, double recall, double precision, double f1, double iou, long support) {}

    public static ClassificationReport of(ConfusionMatrix m, List<String> classNames) {
        int n = m.numClasses();
        long total = m.total();
        List<Row> rows = new ArrayList<>(n);
        double[] sums = new double[5], weightedSums = new double[5];
        for (int c = 0; c < n; c++) {
            long tp = m.count(c, c);
            long fn = m.support(c) - tp;
            long fp = m.predictedCount(c) - tp;
            long tn = total - tp - fn - fp;
            double recall = ratio(tp, tp + fn);
            double precision = ratio(tp, tp + fp);
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            double iou = ratio(tp, tp + fp + fn);
            double acc = ratio(tp + tn, total);
            Row row = new Row(ConfusionMatrix.label(classNames, c), acc, recall, precision, f1, iou, tp + fn);
            rows.add(row);
            double[] v = {acc, recall, precision, f1, iou};
            for (int i = 0; i < 5; i++) {
                sums[i] += v[i];
                weightedSums[i] += v[i] * row.support();
            }
        }
        Row macro = new Row("macro avg", sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, sums[4] / n, total);
        double w = Math.max(total, 1);
        Row weighted = new Row("weighted avg", weightedSums[0] / w, weightedSums[1] / w, weightedSums[2] / w,
                weightedSums[3] / w, weightedSums[4] / w, total);
        return new ClassificationReport(List.copyOf(rows), macro, weighted, m.accuracy(), total);
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }

    /** The table as text, one line per class, then the macro and weighted rows and the overall accuracy. */
    public String format() {
        int nameWidth = "weighted avg".length();
        for (Row r : classes) nameWidth = Math.max(nameWidth, r.name().length());
        String head = "%-" + nameWidth + "s %9s %9s %9s %9s %9s %9s%n";
        String line = "%-" + nameWidth + "s %9.4f %9.4f %9.4f %9.4f %9.4f %9d%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, head, "class", "accuracy", "recall", "precision", "f1", "iou", "support"));
        for (Row r : classes) append(sb, line, r);
        sb.append("-".repeat(nameWidth + 60)).append('\n');
        append(sb, line, macro);
        append(sb, line, weighted);
        sb.append(String.format(Locale.ROOT, "overall accuracy %.4f (%d samples)%n", accuracy, total));
        return sb.toString();
    }

    private static void append(StringBuilder sb, String line, Row r) {
        sb.append(String.format(Locale.ROOT, line, r.name(), r.accuracy(), r.recall(), r.precision(), r.f1(), r.iou(), r.support()));
    }
}
