package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The vectorised column sums give exactly the scalar double loops' results (the determinism contract of the reductions). */
class ColumnSumsTest {
    static float[] random(int n, long seed) {
        return Tensor.randn(new Random4j(seed), n).toFloatArray();
    }

    @Test
    void columnSumsEqualTheScalarDoubleLoopBitForBit() {
        int rows = 777, cols = 3 * ColumnSums.WIDTH + 5, stride = cols + 3;
        float[] x = random(rows * stride + 7, 1);
        MemorySegment seg = MemorySegment.ofArray(x);
        double[] out = new double[ColumnSums.WIDTH];
        for (int c0 = 0; c0 + ColumnSums.WIDTH <= cols; c0 += ColumnSums.WIDTH) {
            ColumnSums.sum(seg, 7 + c0, stride, rows, out, 0);
            for (int c = 0; c < ColumnSums.WIDTH; c++) {
                double want = 0;
                for (int r = 0; r < rows; r++) want += x[7 + c0 + c + r * stride];
                assertThat(out[c]).as("column %d", c0 + c).isEqualTo(want);
            }
        }
    }

    @Test
    void tensorSumOverRowsEqualsTheScalarLoop() {
        Tensor t = Tensor.randn(new Random4j(2), 3, 1000, 130);
        float[] x = t.toFloatArray(), s = t.sum(1, false).toFloatArray();
        for (int o = 0; o < 3; o++)
            for (int c = 0; c < 130; c++) {
                double want = 0;
                for (int r = 0; r < 1000; r++) want += x[(o * 1000 + r) * 130 + c];
                assertThat(s[o * 130 + c]).as("[%d, %d]", o, c).isEqualTo((float) want);
            }
    }

    @Test
    void layerNormParameterGradientsEqualTheScalarLoopBitForBit() {
        int rows = 301, d = 2 * ColumnSums.LN_WIDTH + 3;
        float[] gy = random(rows * d, 3), x = random(rows * d, 4), mean = random(rows, 5), rstd = random(rows, 6);
        double[] gw = new double[ColumnSums.LN_WIDTH], gb = new double[ColumnSums.LN_WIDTH];
        int k = ColumnSums.LN_WIDTH + 1;
        ColumnSums.layerNormParams(MemorySegment.ofArray(gy), 0, MemorySegment.ofArray(x), 0, MemorySegment.ofArray(mean), 0,
                MemorySegment.ofArray(rstd), 0, rows, d, k, gw, gb, 0);
        for (int c = 0; c < ColumnSums.LN_WIDTH; c++) {
            double w = 0, b = 0;
            for (int r = 0; r < rows; r++) {
                float g = gy[r * d + k + c];
                b += g;
                w += g * (x[r * d + k + c] - mean[r]) * rstd[r];
            }
            assertThat(gw[c]).as("gw %d", c).isEqualTo(w);
            assertThat(gb[c]).as("gb %d", c).isEqualTo(b);
        }
    }
}
