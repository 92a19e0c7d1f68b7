package io.github.transformers4j.models.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.GradCheck;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WindowAttentionTest {
    @Test
    void maskAllowsExactlyTheWindowAndThePrefix() {
        var w = new WindowAttention(4, 5, 3, 1); // 4 rows x 5 columns of patches, a class token first
        boolean[][] m = toBool(w.mask(Device.CPU), w.length());
        for (int j = 0; j < w.length(); j++) assertThat(m[0][j]).as("class token row sees token %d", j).isFalse();
        for (int i = 0; i < 20; i++) {
            assertThat(m[1 + i][0]).as("patch %d sees the class token", i).isFalse();
            int r = i / 5, c = i % 5;
            for (int j = 0; j < 20; j++) {
                int r2 = j / 5, c2 = j % 5;
                boolean inside = Math.abs(r - r2) <= 1 && Math.abs(c - c2) <= 1;
                assertThat(m[1 + i][1 + j]).as("patch (%d,%d) -> (%d,%d)", r, c, r2, c2).isEqualTo(!inside);
            }
        }
        // a corner patch has a 2x2 window, an inner one 3x3
        assertThat(countAllowed(m[1])).isEqualTo(1 + 4);
        assertThat(countAllowed(m[1 + 7])).isEqualTo(1 + 9);
    }

    @Test
    void neighbourTableListsEachWindowAndFlagsPositionsOffTheGrid() {
        var w = new WindowAttention(3, 3, 3, 0);
        var nb = w.neighbours(Device.CPU);
        long[] idx = nb.index().toLongArray();
        boolean[][] invalid = toBool(nb.invalid(), 9);
        // centre patch 4: the whole grid, row-major
        assertThat(java.util.Arrays.copyOfRange(idx, 4 * 9, 5 * 9)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8);
        for (int k = 0; k < 9; k++) assertThat(invalid[4][k]).isFalse();
        // corner patch 0: window positions (-1, *) and (*, -1) are off the grid
        assertThat(invalid[0]).containsExactly(true, true, true, true, false, false, true, false, false);
        assertThat(idx[4]).isEqualTo(0);
        assertThat(idx[5]).isEqualTo(1);
        assertThat(idx[7]).isEqualTo(3);
        assertThat(idx[8]).isEqualTo(4);
    }

    @ParameterizedTest(name = "prefix {0}")
    @ValueSource(ints = {0, 1})
    void blockedKernelEqualsMaskedFullAttentionWithGradients(int prefix) {
        var w = new WindowAttention(4, 5, 3, prefix);
        Random4j rng = new Random4j(7);
        int b = 2, h = 2, e = 4, l = w.length();
        Tensor q0 = Tensor.randn(rng, b, h, l, e).to(DType.F64), k0 = Tensor.randn(rng, b, h, l, e).to(DType.F64),
                v0 = Tensor.randn(rng, b, h, l, e).to(DType.F64), gout = Tensor.randn(rng, b, h, l, e).to(DType.F64);
        Tensor[] a = grads(q0, k0, v0, gout, (q, k, v) -> w.attention(q, k, v, w.neighbours(Device.CPU), 0, null));
        Tensor[] m = grads(q0, k0, v0, gout, (q, k, v) -> F.scaledDotProductAttention(q, k, v, w.mask(Device.CPU).logicalNot()));
        for (int i = 0; i < 4; i++) assertThat(maxDiff(a[i], m[i])).as(i == 0 ? "output" : "grad " + "qkv".charAt(i - 1)).isLessThan(1e-12);
    }

    @ParameterizedTest(name = "prefix {0}")
    @ValueSource(ints = {0, 1})
    void blockedKernelPassesGradCheck(int prefix) {
        var w = new WindowAttention(3, 3, 3, prefix);
        Random4j rng = new Random4j(3);
        int l = w.length();
        Tensor q = Tensor.randn(rng, 1, 2, l, 3).to(DType.F64).requiresGrad(true);
        Tensor k = Tensor.randn(rng, 1, 2, l, 3).to(DType.F64).requiresGrad(true);
        Tensor v = Tensor.randn(rng, 1, 2, l, 3).to(DType.F64).requiresGrad(true);
        double err = GradCheck.maxError(x -> w.attention(x[0], x[1], x[2], w.neighbours(Device.CPU), 0, null), q, k, v);
        assertThat(err).isLessThan(1e-6);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"MASK", "BLOCKED"})
    void aPatchNeverSeesTokensOutsideItsWindow(String impl) {
        var w = new WindowAttention(5, 5, 3, 1);
        var cfg = TransformerLayerConfig.of(8, 2).withDimFeedforward(16).withDropout(0).withActivation(Activation.GELU).withBatchFirst(true);
        var layer = new WindowedEncoderLayer(cfg, w, WindowedEncoderLayer.Impl.valueOf(impl), new Random4j(1));
        Tensor x = Tensor.randn(new Random4j(2), 1, w.length(), 8);
        Tensor y = layer.forward(x);
        int patch = 12; // centre (2, 2): window rows/cols 1..3
        for (int j = 0; j < 25; j++) {
            Tensor x2 = x.clone();
            x2.narrow(1, 1 + j, 1).add_(Tensor.randn(new Random4j(10 + j), 1, 1, 8), 5.0);
            Tensor y2 = layer.forward(x2);
            double change = y2.narrow(1, 1 + patch, 1).sub(y.narrow(1, 1 + patch, 1)).abs().max().item();
            if (w.inWindow(patch, j)) assertThat(change).as("token of patch %d inside the window changes the output", j).isGreaterThan(1e-4);
            else assertThat(change).as("token of patch %d outside the window", j).isEqualTo(0.0);
        }
        // the class token sees every patch
        Tensor x3 = x.clone();
        x3.narrow(1, 25, 1).add_(Tensor.ones(1, 1, 8), 5.0);
        assertThat(layer.forward(x3).narrow(1, 0, 1).sub(y.narrow(1, 0, 1)).abs().max().item()).isGreaterThan(1e-4);
    }

    @Test
    void attentionWeightsOutsideTheWindowAreZero() {
        var w = new WindowAttention(4, 4, 3, 1);
        var cfg = TransformerLayerConfig.of(8, 2).withDimFeedforward(16).withDropout(0).withBatchFirst(true);
        var layer = new WindowedEncoderLayer(cfg, w, WindowedEncoderLayer.Impl.MASK, new Random4j(1));
        List<Tensor> seen = new ArrayList<>();
        layer.selfAttn.onAttentionWeights(t -> seen.add(t.clone().keep()));
        layer.forward(Tensor.randn(new Random4j(2), 2, w.length(), 8));
        double[] a = seen.get(0).toDoubleArray(); // (B, H, L, L)
        int l = w.length();
        for (int bh = 0; bh < 4; bh++)
            for (int i = 0; i < 16; i++)
                for (int j = 0; j < 16; j++)
                    if (!w.inWindow(i, j)) assertThat(a[(bh * l + 1 + i) * l + 1 + j]).isEqualTo(0.0);
    }

    @Test
    void blockedCostGrowsWithPatchesNotTheirSquare() {
        int e = 32;
        var small = new WindowAttention(8, 8, 5, 0);
        var large = new WindowAttention(32, 32, 5, 0);
        assertThat((double) large.attentionFlops(e, true) / small.attentionFlops(e, true)).isEqualTo(16.0);
        assertThat((double) large.attentionFlops(e, false) / small.attentionFlops(e, false)).isEqualTo(256.0);
    }

    @Test
    void wrongArgumentsAreRefused() {
        assertThatThrownBy(() -> new WindowAttention(4, 4, 4, 0)).hasMessageContaining("odd");
        var w = new WindowAttention(2, 2, 3, 0);
        Tensor t = Tensor.zeros(1, 1, 5, 4);
        assertThatThrownBy(() -> w.attention(t, t, t, w.neighbours(Device.CPU), 0, null)).hasMessageContaining("(B, H, 4, E)")
                .hasMessageContaining("[1, 1, 5, 4]");
    }

    interface Attn {
        Tensor apply(Tensor q, Tensor k, Tensor v);
    }

    private static Tensor[] grads(Tensor q0, Tensor k0, Tensor v0, Tensor gout, Attn f) {
        Tensor q = q0.clone().requiresGrad(true), k = k0.clone().requiresGrad(true), v = v0.clone().requiresGrad(true);
        Tensor out = f.apply(q, k, v);
        out.mul(gout).sum().backward();
        return new Tensor[] {out, q.grad(), k.grad(), v.grad()};
    }

    private static double maxDiff(Tensor a, Tensor b) {
        return a.sub(b).abs().max().item();
    }

    private static boolean[][] toBool(Tensor m, int cols) {
        double[] v = m.to(DType.F64).toDoubleArray();
        boolean[][] r = new boolean[v.length / cols][cols];
        for (int i = 0; i < v.length; i++) r[i / cols][i % cols] = v[i] != 0;
        return r;
    }

    private static int countAllowed(boolean[] row) {
        int n = 0;
        for (boolean b : row) if (!b) n++;
        return n;
    }
}
