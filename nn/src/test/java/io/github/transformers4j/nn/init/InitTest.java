package io.github.transformers4j.nn.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class InitTest {
    private static double[] stats(Tensor t) {
        double[] v = t.to(DType.F64).toDoubleArray();
        double mean = 0, sq = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double d : v) {
            mean += d;
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        mean /= v.length;
        for (double d : v) sq += (d - mean) * (d - mean);
        return new double[] {mean, Math.sqrt(sq / v.length), min, max};
    }

    @Test
    void fansAndGainsFollowPyTorch() {
        assertThat(Init.fanInAndFanOut(new int[] {32, 16})).containsExactly(16, 32);
        assertThat(Init.fanInAndFanOut(new int[] {8, 3, 4, 4})).containsExactly(48, 128);
        assertThatThrownBy(() -> Init.fanInAndFanOut(new int[] {5})).hasMessageContaining("[5]");
        assertThat(Init.calculateGain("relu", 0)).isEqualTo(Math.sqrt(2));
        assertThat(Init.calculateGain("leaky_relu", Math.sqrt(5))).isCloseTo(Math.sqrt(1.0 / 3), offset(1e-15));
        assertThat(Init.calculateGain("tanh", 0)).isEqualTo(5.0 / 3);
    }

    @Test
    void xavierAndKaimingHaveTheirBoundsAndSpreads() {
        Tensor w = Tensor.zeros(300, 200);
        Init.xavierUniform_(w, 1, new Random4j(1));
        double b = Math.sqrt(6.0 / 500);
        double[] s = stats(w);
        assertThat(s[2]).isGreaterThanOrEqualTo(-b).isLessThan(-0.99 * b);
        assertThat(s[3]).isLessThanOrEqualTo(b).isGreaterThan(0.99 * b);
        assertThat(s[1]).isCloseTo(b / Math.sqrt(3), offset(0.01 * b));
        Init.kaimingNormal_(w, 0, Init.FanMode.FAN_IN, "relu", new Random4j(2));
        assertThat(stats(w)[1]).isCloseTo(Math.sqrt(2.0 / 200), offset(0.01 * Math.sqrt(2.0 / 200)));
        Tensor w64 = Tensor.zeros(DType.F64, 100, 50);
        Init.kaimingUniform_(w64, Math.sqrt(5), new Random4j(3));
        assertThat(w64.dtype()).isEqualTo(DType.F64);
        assertThat(stats(w64)[3]).isLessThanOrEqualTo(1 / Math.sqrt(50));
    }

    @Test
    void truncNormalStaysInsideItsBoundsWithTheTruncatedMoments() {
        Tensor t = Tensor.zeros(200_000);
        Init.truncNormal_(t, 1.0, new Random4j(4)); // N(0, 1) cut to [-2, 2]
        double[] s = stats(t);
        assertThat(s[2]).isGreaterThanOrEqualTo(-2);
        assertThat(s[3]).isLessThanOrEqualTo(2);
        assertThat(s[0]).isCloseTo(0, offset(0.01));
        // std of a standard normal truncated to [-2, 2]: sqrt(1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2))) = 0.87962
        assertThat(s[1]).isCloseTo(0.87962, offset(0.005));
        Init.truncNormal_(t, 0.5, 0.02, 0.48, 0.6, new Random4j(5));
        s = stats(t);
        assertThat(s[2]).isGreaterThanOrEqualTo(0.48);
        assertThat(s[3]).isLessThanOrEqualTo(0.6);
    }

    @Test
    void normalQuantileIsAccurate() {
        assertThat(Init.inverseNormalCdf(0.975)).isCloseTo(1.959963984540054, offset(1e-8));
        assertThat(Init.inverseNormalCdf(0.5)).isCloseTo(0, offset(1e-12));
        assertThat(Init.inverseNormalCdf(1e-6)).isCloseTo(-4.753424308822899, offset(1e-7));
        assertThat(Init.normalCdf(1.0)).isCloseTo(0.8413447460685429, offset(1e-7));
    }
}
