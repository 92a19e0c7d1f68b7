package io.github.transformers4j.data.vision.transforms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.transformers4j.data.SampleRng;
import org.junit.jupiter.api.Test;

class MixupTest {
    /** Sample mean and variance of n draws. */
    private static double[] moments(java.util.function.DoubleSupplier draw, int n) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            double x = draw.getAsDouble();
            s += x;
            s2 += x * x;
        }
        double mean = s / n;
        return new double[] {mean, s2 / n - mean * mean};
    }

    @Test
    void gammaAndBetaHaveTheirDistributionsMoments() {
        SampleRng rng = new SampleRng(1);
        int n = 40_000;
        for (double a : new double[] {0.4, 1.0, 2.5}) {
            double[] g = moments(() -> Mixup.gamma(a, rng), n); // Gamma(a, 1): mean a, variance a
            assertThat(g[0]).as("Gamma(%s) mean", a).isCloseTo(a, within(0.03 * a + 0.01));
            assertThat(g[1]).as("Gamma(%s) variance", a).isCloseTo(a, within(0.08 * a + 0.01));
            double[] b = moments(() -> Mixup.beta(a, rng), n); // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))
            assertThat(b[0]).as("Beta(%s) mean", a).isCloseTo(0.5, within(0.01));
            assertThat(b[1]).as("Beta(%s) variance", a).isCloseTo(1 / (4 * (2 * a + 1)), within(0.004));
        }
    }

    @Test
    void cutMixBoxesStayInsideAndLambdaIsTheShareLeft() {
        SampleRng rng = new SampleRng(2);
        Mixup cut = Mixup.of(0, 1.0);
        int boxes = 0;
        for (int i = 0; i < 2000; i++) {
            Mixup.Draw d = cut.draw(rng, 28, 20);
            assertThat(d.cutmix()).isTrue();
            assertThat(d.y0()).isBetween(0, d.y1());
            assertThat(d.y1()).isLessThanOrEqualTo(28);
            assertThat(d.x0()).isBetween(0, d.x1());
            assertThat(d.x1()).isLessThanOrEqualTo(20);
            double share = (double) (d.y1() - d.y0()) * (d.x1() - d.x0()) / (28 * 20);
            assertThat(d.lambda()).isCloseTo(1 - share, within(1e-12));
            if (share > 0) boxes++;
            float[] m = d.mask(28, 20).toFloatArray();
            int zeros = 0;
            for (float v : m) if (v == 0) zeros++;
            assertThat(zeros).isEqualTo((d.y1() - d.y0()) * (d.x1() - d.x0()));
        }
        assertThat(boxes).isGreaterThan(1500);
    }

    @Test
    void bothOnTakeCutMixForAboutHalfTheBatchesAndMixupMasksAreLambda() {
        SampleRng rng = new SampleRng(3);
        Mixup both = Mixup.of(0.8, 1.0);
        int cutmix = 0;
        for (int i = 0; i < 4000; i++) {
            Mixup.Draw d = both.draw(rng, 8, 8);
            if (d.cutmix()) {
                cutmix++;
            } else {
                assertThat(d.mask(8, 8).toFloatArray()).containsOnly((float) d.lambda());
                assertThat(d.lambda()).isBetween(0.0, 1.0);
            }
        }
        assertThat(cutmix).isBetween(1850, 2150);
        assertThat(Mixup.pairs(5).toLongArray()).containsExactly(4, 3, 2, 1, 0);
    }

    @Test
    void badAlphasAreRefusedWithTheOptionsName() {
        assertThatThrownBy(() -> Mixup.of(-0.1, 0)).hasMessage("--mixup must be >= 0, got -0.1");
        assertThatThrownBy(() -> Mixup.of(0, Double.NaN)).hasMessage("--cutmix must be >= 0, got NaN");
        assertThat(Mixup.of(0, 0).enabled()).isFalse();
        assertThatThrownBy(() -> Mixup.of(0, 0).draw(new SampleRng(1), 4, 4)).isInstanceOf(IllegalStateException.class);
    }
}
