package io.github.transformers4j.nn.functional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.GradCheck;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class LossesTest {
    /** Per-row smoothed cross-entropy in plain doubles: (1 - eps) * -log p_t + eps * mean_c(-log p_c). */
    private static double rowLoss(double[] logits, int t, double eps) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double l : logits) max = Math.max(max, l);
        for (double l : logits) sum += Math.exp(l - max);
        double lse = max + Math.log(sum), smooth = 0;
        for (double l : logits) smooth += (lse - l) / logits.length;
        return (1 - eps) * (lse - logits[t]) + eps * smooth;
    }

    @Test
    void crossEntropyMatchesPlainArithmeticWithIgnoreAndSmoothing() {
        double[] x = {1, 2, 0.5, -1, 0, 3, 2, 2, -2};
        long[] t = {1, -100, 0};
        Tensor logits = Tensor.of(x, 3, 3);
        Tensor target = Tensor.ofLongs(t, 3);
        double r0 = rowLoss(new double[] {1, 2, 0.5}, 1, 0.2), r2 = rowLoss(new double[] {2, 2, -2}, 0, 0.2);
        assertThat(F.crossEntropy(logits, target, -100, 0.2, Reduction.MEAN).item()).isCloseTo((r0 + r2) / 2, offset(1e-12));
        assertThat(F.crossEntropy(logits, target, -100, 0.2, Reduction.SUM).item()).isCloseTo(r0 + r2, offset(1e-12));
        assertThat(F.crossEntropy(logits, target, -100, 0.2, Reduction.NONE).toDoubleArray()).containsExactly(new double[] {r0, 0, r2}, offset(1e-12));
        assertThat(F.crossEntropy(logits, Tensor.ofLongs(new long[] {1, 2, 0}, 3)).item())
                .isCloseTo((rowLoss(new double[] {1, 2, 0.5}, 1, 0) + rowLoss(new double[] {-1, 0, 3}, 2, 0) + rowLoss(new double[] {2, 2, -2}, 0, 0)) / 3, offset(1e-12));
    }

    @Test
    void crossEntropyGradientsMatchFiniteDifferences() {
        Tensor x = Tensor.randn(new Random4j(1), 2, 4, 3).to(DType.F64).requiresGrad(true); // (N, C, d)
        Tensor t = Tensor.ofLongs(new long[] {0, 3, -100, 2, 1, 1}, 2, 3);
        assertThat(GradCheck.maxError(a -> F.crossEntropy(a[0], t, -100, 0.1, Reduction.MEAN), x)).isLessThan(1e-7);
        assertThat(GradCheck.maxError(a -> F.crossEntropy(a[0], t, -100, 0.1, Reduction.NONE), x)).isLessThan(1e-7);
        Tensor y = Tensor.randn(new Random4j(2), 3, 4).to(DType.F64).requiresGrad(true);
        Tensor yt = Tensor.randn(new Random4j(3), 3, 4).to(DType.F64).requiresGrad(true);
        assertThat(GradCheck.maxError(a -> F.mseLoss(a[0], a[1]), y, yt)).isLessThan(1e-7);
    }

    @Test
    void ignoredTargetsGetNoGradientAndAllIgnoredMeanIsNaNLikePyTorch() {
        Tensor x = Tensor.randn(new Random4j(4), 3, 5).requiresGrad(true);
        F.crossEntropy(x, Tensor.ofLongs(new long[] {2, -100, 4}, 3), -100, 0.3, Reduction.MEAN).backward();
        assertThat(x.grad().select(0, 1).toFloatArray()).containsOnly(0f);
        assertThat(F.crossEntropy(x.detach(), Tensor.ofLongs(new long[] {-100, -100, -100}, 3)).item()).isNaN();
        assertThat(F.crossEntropy(x.detach(), Tensor.ofLongs(new long[] {-100, -100, -100}, 3), -100, 0, Reduction.SUM).item()).isZero();
    }

    @Test
    void nllLossOfLogSoftmaxIsCrossEntropy() {
        Tensor x = Tensor.randn(new Random4j(5), 4, 6);
        Tensor t = Tensor.ofLongs(new long[] {5, 0, 3, 3}, 4);
        Fixture.assertClose("nll", F.nllLoss(F.logSoftmax(x, 1), t), F.crossEntropy(x, t), 0, 1e-6);
        assertThat(F.mseLoss(Tensor.of(new float[] {1, 2}, 2), Tensor.of(new float[] {0, 4}, 2), Reduction.SUM).item()).isEqualTo(5.0);
    }

    @Test
    void badTargetsAreReported() {
        Tensor x = Tensor.zeros(3, 5);
        assertThatThrownBy(() -> F.crossEntropy(x, Tensor.ofLongs(new long[] {1, 5, 0}, 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target 5").hasMessageContaining("[0, 5)");
        assertThatThrownBy(() -> F.crossEntropy(x, Tensor.ofLongs(new long[] {1, -1, 0}, 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target -1");
        assertThatThrownBy(() -> F.crossEntropy(x, Tensor.ofLongs(new long[] {1, 2}, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target [2] should be [3]");
        assertThatThrownBy(() -> F.crossEntropy(x, Tensor.zeros(3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("I64");
        assertThatThrownBy(() -> F.mseLoss(x, Tensor.zeros(3, 4))).hasMessageContaining("[3, 5]").hasMessageContaining("[3, 4]");
        assertThatThrownBy(() -> Reduction.of("avg")).hasMessageContaining("'avg'");
    }
}
