package io.github.transformers4j.nn.functional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.DropPath;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Capture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Stochastic depth (timm's drop_path): a whole sample of a residual branch kept, scaled by 1 / (1 - p), or zeroed. */
class DropPathTest {
    @Test
    void eachSampleIsDroppedWholeOrScaledByOneOverKeep() {
        double p = 0.3;
        int b = 4000, l = 3, d = 5;
        Tensor x = Tensor.randn(new Random4j(1), b, l, d);
        float[] in = x.toFloatArray(), out = F.dropPath(x, p, true, new Random4j(2)).toFloatArray();
        float scale = (float) (1 / (1 - p));
        int dropped = 0;
        for (int s = 0; s < b; s++) {
            boolean zero = out[s * l * d] == 0;
            if (zero) dropped++;
            for (int k = s * l * d; k < (s + 1) * l * d; k++) {
                assertThat(out[k]).as("sample %d element %d", s, k).isEqualTo(zero ? 0f : in[k] * scale);
            }
        }
        // Binomial(4000, 0.3): mean 1200, sd 29
        assertThat(dropped).isBetween(1200 - 4 * 29, 1200 + 4 * 29);
    }

    @Test
    void theDrawIsTheDropoutStreamOfOnePerSample() {
        Tensor x = Tensor.randn(new Random4j(3), 64, 7);
        Tensor got = F.dropPath(x, 0.5, true, new Random4j(9));
        Tensor factor = F.dropout(Tensor.full(1, DType.F32, Device.CPU, 64, 1), 0.5, true, new Random4j(9));
        assertThat(got.toFloatArray()).containsExactly(x.mul(factor).toFloatArray());
        // the same generator state, the same samples dropped
        assertThat(F.dropPath(x, 0.5, true, new Random4j(9)).toFloatArray()).containsExactly(got.toFloatArray());
    }

    @Test
    void gradientIsTheSameFactorPerSample() {
        Tensor x = Tensor.randn(new Random4j(4), 16, 2, 3).requiresGrad(true);
        Tensor y = F.dropPath(x, 0.4, true, new Random4j(5));
        y.sum().backward();
        float[] g = x.grad().toFloatArray(), in = x.detach().toFloatArray(), out = y.detach().toFloatArray();
        for (int k = 0; k < g.length; k++) {
            float factor = g[k];
            assertThat(factor == 0f || Math.abs(factor - 1 / 0.6f) < 1e-6f).as("d out / d x of element %d: %s", k, factor).isTrue();
            assertThat(out[k]).isEqualTo(in[k] * factor);
        }
    }

    /** A captured GPU step may hold it: no host transfer (the factor is filled and drawn on the tensor's device). */
    @Test
    void aCapturedStepCanHoldIt() {
        Tensor x = Tensor.randn(new Random4j(1), 4, 3);
        Random4j rng = new Random4j(2);
        F.dropPath(x, 0.5, true, rng);
        Capture.begin();
        try {
            assertThatCode(() -> F.dropPath(x, 0.5, true, rng)).doesNotThrowAnyException();
        } finally {
            Capture.end();
        }
    }

    @Test
    void identityInEvalModeOrAtZeroAndAllDroppedAtOne() {
        Tensor x = Tensor.randn(new Random4j(6), 8, 4);
        assertThat(F.dropPath(x, 0.5, false, new Random4j(1))).isSameAs(x);
        assertThat(F.dropPath(x, 0, true, new Random4j(1))).isSameAs(x);
        for (float v : F.dropPath(x, 1, true, new Random4j(1)).toFloatArray()) assertThat(v).isZero();
        DropPath m = new DropPath(0.5, new Random4j(1));
        m.eval();
        assertThat(m.forward(x)).isSameAs(x);
        assertThatThrownBy(() -> F.dropPath(x, 1.5, true, null)).hasMessageContaining("dropPath: probability must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> new DropPath(-0.1)).hasMessageContaining("got -0.1");
        assertThatThrownBy(() -> F.dropPath(Tensor.scalar(1), 0.5, true, new Random4j(1))).hasMessageContaining("batch dimension");
    }

    @Test
    void encoderLayerDropsBothBranchesPerSampleAndIsPyTorchsLayerAtZero() {
        TransformerLayerConfig c = TransformerLayerConfig.of(8, 2).withDimFeedforward(16).withDropout(0).withBatchFirst(true)
                .withNormFirst(true);
        Tensor x = Tensor.randn(new Random4j(7), 3, 5, 8);
        var plain = new TransformerEncoderLayer(c, new Random4j(11));
        var dropping = new TransformerEncoderLayer(c, new Random4j(11));
        assertThat(dropping.dropPath()).isZero();
        // drop path 0 changes nothing, in training mode too
        assertThat(dropping.forward(x).toFloatArray()).containsExactly(plain.forward(x).toFloatArray());
        // drop path 1 drops both residual branches of every sample: a pre-norm layer passes its input through
        dropping.dropPath(1);
        assertThat(dropping.forward(x).toFloatArray()).containsExactly(x.toFloatArray());
        // and it is off in eval mode
        dropping.eval();
        plain.eval();
        assertThat(dropping.forward(x).toFloatArray()).containsExactly(plain.forward(x).toFloatArray());
        assertThatThrownBy(() -> dropping.dropPath(2)).hasMessageContaining("drop path must be in [0, 1], got 2.0");
    }
}
