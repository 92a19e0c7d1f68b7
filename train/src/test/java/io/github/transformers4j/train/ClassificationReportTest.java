package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassificationReportTest {
    // rows = true class, columns = predicted class; 25 samples, 18 on the diagonal
    static final long[][] M = {
            {5, 2, 1},
            {0, 6, 2},
            {1, 1, 7}};

    @Test
    void perClassMacroAndWeightedRowsMatchHandComputedValues() {
        ClassificationReport r = ConfusionMatrix.of(M).report(List.of("a", "b", "c"));
        // class a: TP 5, FN 3, FP 1, TN 16; class b: TP 6, FN 2, FP 3, TN 14; class c: TP 7, FN 2, FP 3, TN 13
        double[][] expected = {
                // accuracy, recall, precision, f1 = 2TP/(2TP+FP+FN), iou = TP/(TP+FP+FN), support
                {21 / 25.0, 5 / 8.0, 5 / 6.0, 10 / 14.0, 5 / 9.0, 8},
                {20 / 25.0, 6 / 8.0, 6 / 9.0, 12 / 17.0, 6 / 11.0, 8},
                {20 / 25.0, 7 / 9.0, 7 / 10.0, 14 / 19.0, 7 / 12.0, 9}};
        for (int c = 0; c < 3; c++) {
            var row = r.classes().get(c);
            assertThat(row.accuracy()).isCloseTo(expected[c][0], within(1e-12));
            assertThat(row.recall()).isCloseTo(expected[c][1], within(1e-12));
            assertThat(row.precision()).isCloseTo(expected[c][2], within(1e-12));
            assertThat(row.f1()).isCloseTo(expected[c][3], within(1e-12));
            assertThat(row.iou()).isCloseTo(expected[c][4], within(1e-12));
            assertThat(row.support()).isEqualTo((long) expected[c][5]);
        }
        assertThat(r.classes().get(1).name()).isEqualTo("1 b");
        assertThat(r.accuracy()).isEqualTo(18 / 25.0);
        assertThat(r.total()).isEqualTo(25);
        assertThat(r.macro().recall()).isCloseTo((5 / 8.0 + 6 / 8.0 + 7 / 9.0) / 3, within(1e-12));
        assertThat(r.macro().iou()).isCloseTo((5 / 9.0 + 6 / 11.0 + 7 / 12.0) / 3, within(1e-12));
        assertThat(r.weighted().precision()).isCloseTo((8 * 5 / 6.0 + 8 * 6 / 9.0 + 9 * 7 / 10.0) / 25, within(1e-12));
        assertThat(r.weighted().f1()).isCloseTo((8 * 10 / 14.0 + 8 * 12 / 17.0 + 9 * 14 / 19.0) / 25, within(1e-12));
        // weighted recall is the overall accuracy
        assertThat(r.weighted().recall()).isCloseTo(18 / 25.0, within(1e-12));
    }

    @Test
    void classNeverSeenNorPredictedGetsZerosNotNaN() {
        ClassificationReport r = ConfusionMatrix.of(new long[][] {{3, 0}, {0, 0}}).report(null);
        var empty = r.classes().get(1);
        assertThat(empty.recall()).isZero();
        assertThat(empty.precision()).isZero();
        assertThat(empty.f1()).isZero();
        assertThat(empty.iou()).isZero();
        assertThat(empty.accuracy()).isEqualTo(1.0); // all 3 samples are true negatives for class 1
        assertThat(r.classes().get(0).f1()).isEqualTo(1.0);
    }

    @Test
    void confusionMatrixCountsPairsAndRejectsOutOfRangeClasses() {
        ConfusionMatrix m = new ConfusionMatrix(3);
        m.addAll(new long[] {0, 0, 1, 2, 2, 2}, new long[] {0, 1, 1, 2, 0, 2});
        assertThat(m.counts()).isEqualTo(new long[][] {{1, 1, 0}, {0, 1, 0}, {1, 0, 2}});
        assertThat(m.correct()).isEqualTo(4);
        assertThat(m.support(2)).isEqualTo(3);
        assertThat(m.predictedCount(0)).isEqualTo(2);
        assertThatThrownBy(() -> m.add(3, 0)).hasMessageContaining("true class 3 outside 0..2");
        assertThatThrownBy(() -> m.addAll(new long[] {0}, new long[] {0, 1})).hasMessageContaining("1 labels but 2 predictions");
    }

    @Test
    void formattedTableHasEveryRow() {
        String text = ConfusionMatrix.of(M).report(List.of("a", "b", "c")).format();
        assertThat(text).contains("accuracy", "recall", "precision", "f1", "iou", "support", "macro avg", "weighted avg",
                "overall accuracy 0.7200 (25 samples)");
        assertThat(text.lines().filter(l -> l.startsWith("1 b")).findFirst().orElseThrow())
                .contains("0.8000", "0.7500", "0.6667", "0.7059", "0.5455", "8");
        String matrix = ConfusionMatrix.of(M).format(List.of("a", "b", "c"));
        assertThat(matrix.lines().toList().get(0)).matches("true \\\\ pred +0 1 2");
        assertThat(matrix.lines().toList().get(3)).matches("2 c +1 1 7");
    }
}
