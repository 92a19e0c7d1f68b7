package io.github.transformers4j.nn.functional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.GradCheck;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ScaledDotProductAttentionTest {
    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape).to(DType.F64);
    }

    private static Tensor mask(boolean[] values, int... shape) {
        return Tensor.ofBooleans(values, shape);
    }

    /** Plain loops: for each (b, h, i) softmax over the allowed keys j of scale * q_i . k_j + add[b, i, j], then sum_j w_j v_j. */
    private static double[] reference(Tensor q, Tensor k, Tensor v, boolean[][] padded, double[][][] add, boolean causal, double scale) {
        int b = q.size(0), h = q.size(1), lq = q.size(2), lk = k.size(2), e = q.size(3), ev = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[b * h * lq * ev];
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) for (int i = 0; i < lq; i++) {
            double[] s = new double[lk];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < lk; j++) {
                boolean allowed = (padded == null || !padded[bi][j]) && (!causal || j <= i);
                if (!allowed) {
                    s[j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int x = 0; x < e; x++) dot += qa[((bi * h + hi) * lq + i) * e + x] * ka[((bi * h + hi) * lk + j) * e + x];
                s[j] = dot * scale + (add == null ? 0 : add[bi][i][j]);
                max = Math.max(max, s[j]);
            }
            if (max == Double.NEGATIVE_INFINITY) continue; // no allowed key: zeros
            double sum = 0;
            for (int j = 0; j < lk; j++) sum += s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
            for (int j = 0; j < lk; j++) {
                double w = s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max) / sum;
                for (int x = 0; x < ev; x++) out[((bi * h + hi) * lq + i) * ev + x] += w * va[((bi * h + hi) * lk + j) * ev + x];
            }
        }
        return out;
    }

    @Test
    void matchesPlainLoopsWithPaddingCausalFloatMaskAndScale() {
        Tensor q = randn(1, 2, 2, 4, 3), k = randn(2, 2, 2, 4, 3), v = randn(3, 2, 2, 4, 5);
        boolean[][] padded = {{false, false, false, true}, {false, true, true, true}};
        Tensor kpm = mask(new boolean[] {false, false, false, true, false, true, true, true}, 2, 4);
        Tensor add = randn(4, 2, 1, 4, 4);
        double[] addA = add.toDoubleArray();
        double[][][] addR = new double[2][4][4];
        for (int b = 0; b < 2; b++) for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) addR[b][i][j] = addA[(b * 4 + i) * 4 + j];
        Tensor out = F.scaledDotProductAttention(q, k, v, new SdpaOptions(add, kpm, true, 0, 0.7, null, false)).output();
        Fixture.assertClose("sdpa", out, Tensor.of(reference(q, k, v, padded, addR, true, 0.7), 2, 2, 4, 5), 1e-12, 1e-12);
        Tensor plain = F.scaledDotProductAttention(q, k, v);
        Fixture.assertClose("sdpa plain", plain, Tensor.of(reference(q, k, v, null, null, false, 1 / Math.sqrt(3)), 2, 2, 4, 5), 1e-12, 1e-12);
    }

    @Test
    void boolAttnMaskTrueMeansAttendAsInPyTorch() {
        Tensor q = randn(5, 1, 2, 3, 4), k = randn(6, 1, 2, 5, 4), v = randn(7, 1, 2, 5, 4);
        boolean[] attend = {true, false, true, true, false, false, true, true, true, true, true, true, true, false, false};
        double[] f = new double[attend.length];
        for (int i = 0; i < attend.length; i++) f[i] = attend[i] ? 0 : Double.NEGATIVE_INFINITY;
        Tensor a = F.scaledDotProductAttention(q, k, v, mask(attend, 3, 5));
        Tensor b = F.scaledDotProductAttention(q, k, v, Tensor.of(f, 3, 5));
        Fixture.assertClose("bool vs float mask", a, b, 0, 1e-15);
    }

    @Test
    void gradientsMatchFiniteDifferencesWithMasks() {
        Tensor q = randn(11, 2, 2, 3, 4).requiresGrad(true), k = randn(12, 2, 2, 4, 4).requiresGrad(true), v = randn(13, 2, 2, 4, 3).requiresGrad(true);
        Tensor kpm = mask(new boolean[] {false, false, true, false, false, true, true, true}, 2, 4); // batch 1 row 0: no allowed key
        Tensor add = randn(14, 3, 4).mul(0.5);
        double err = GradCheck.maxError(x -> F.scaledDotProductAttention(x[0], x[1], x[2], new SdpaOptions(x[4], x[3], true, 0, null, null, false)).output(),
                q, k, v, kpm, add);
        assertThat(err).isLessThan(1e-7);
    }

    @Test
    void fullyMaskedQueriesGiveZerosAndFiniteZeroGradients() {
        // batch 1 has every key padded; with causal + left padding in batch 0, query 0 only sees padded key 0
        Tensor q = randn(21, 2, 2, 3, 4).requiresGrad(true), k = randn(22, 2, 2, 3, 4).requiresGrad(true), v = randn(23, 2, 2, 3, 4).requiresGrad(true);
        Tensor kpm = mask(new boolean[] {true, false, false, true, true, true}, 2, 3);
        Attention a = F.scaledDotProductAttention(q, k, v, new SdpaOptions(null, kpm, true, 0, null, null, true));
        double[] out = a.output().toDoubleArray(), w = a.weights().toDoubleArray();
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 3; i++) for (int x = 0; x < 4; x++) assertThat(out[((2 + h) * 3 + i) * 4 + x]).isZero(); // batch 1
            for (int x = 0; x < 4; x++) assertThat(out[(h * 3) * 4 + x]).isZero(); // batch 0, query 0
            for (int j = 0; j < 3; j++) assertThat(w[(h * 3) * 3 + j]).isZero();
            double rowSum = 0;
            for (int j = 0; j < 3; j++) rowSum += w[(h * 3 + 2) * 3 + j];
            assertThat(rowSum).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-12)); // batch 0, query 2: a normal row
        }
        a.output().mul(randn(24, 2, 2, 3, 4)).sum().backward();
        for (Tensor g : new Tensor[] {q.grad(), k.grad(), v.grad()}) assertThat(java.util.Arrays.stream(g.toDoubleArray()).boxed().toList()).allMatch(Double::isFinite);
        double[] gq = q.grad().toDoubleArray();
        for (int i = 0; i < 2 * 3 * 4; i++) assertThat(gq[2 * 3 * 4 + i]).isZero(); // no gradient through batch 1's queries
        double[] gk = k.grad().toDoubleArray(), gv = v.grad().toDoubleArray();
        for (int i = 0; i < 2 * 3 * 4; i++) {
            assertThat(gk[2 * 3 * 4 + i]).isZero();
            assertThat(gv[2 * 3 * 4 + i]).isZero();
        }
        // float32 and a float -inf mask: still zeros, not NaN
        Tensor full = Tensor.full(Double.NEGATIVE_INFINITY, DType.F32, q.device(), 3, 3);
        Tensor o32 = F.scaledDotProductAttention(q.detach().to(DType.F32), k.detach().to(DType.F32), v.detach().to(DType.F32), full);
        assertThat(o32.toFloatArray()).containsOnly(0f);
    }

    @Test
    void singleHeadRankThreeEqualsRankFourWithOneHead() {
        Tensor q = randn(31, 2, 3, 4), k = randn(32, 2, 5, 4), v = randn(33, 2, 5, 2);
        Tensor kpm = mask(new boolean[] {false, false, false, false, true, false, true, true, true, true}, 2, 5);
        SdpaOptions padded = SdpaOptions.builder().keyPaddingMask(kpm).build();
        Tensor a = F.scaledDotProductAttention(q, k, v, padded).output();
        Tensor b = F.scaledDotProductAttention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1), padded).output().squeeze(1);
        Fixture.assertClose("rank 3", a, b, 0, 0);
    }

    @Test
    void dropoutIsReproducibleAndScalesKeptWeights() {
        Tensor q = randn(41, 1, 2, 4, 4), k = randn(42, 1, 2, 6, 4), v = randn(43, 1, 2, 6, 4);
        Attention a = F.scaledDotProductAttention(q, k, v, new SdpaOptions(null, null, false, 0.5, null, new Random4j(7), true));
        Attention b = F.scaledDotProductAttention(q, k, v, new SdpaOptions(null, null, false, 0.5, null, new Random4j(7), true));
        Fixture.assertClose("same seed", a.output(), b.output(), 0, 0);
        double[] dropped = a.weights().toDoubleArray();
        double[] full = F.scaledDotProductAttention(q, k, v, SdpaOptions.builder().needWeights(true).build()).weights().toDoubleArray();
        int zeros = 0;
        for (int i = 0; i < full.length; i++) {
            if (dropped[i] == 0) zeros++;
            else assertThat(dropped[i]).isCloseTo(2 * full[i], org.assertj.core.data.Offset.offset(1e-12));
        }
        assertThat(zeros).isBetween(full.length / 5, full.length * 4 / 5);
        Fixture.assertClose("output uses the dropped weights", a.output(), a.weights().matmul(v), 0, 1e-12);
    }

    @Test
    void badShapesAreReportedWithTheShapes() {
        Tensor q = randn(1, 2, 2, 3, 4), k = randn(2, 2, 2, 5, 4), v = randn(3, 2, 2, 5, 4);
        assertThatThrownBy(() -> F.scaledDotProductAttention(q, k, v, SdpaOptions.builder().keyPaddingMask(mask(new boolean[6], 2, 3)).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyPaddingMask").hasMessageContaining("[2, 5]")
                .hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> F.scaledDotProductAttention(q, k, v, Tensor.zeros(3, 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attnMask F32 [3, 4]").hasMessageContaining("[2, 2, 3, 5]");
        assertThatThrownBy(() -> F.scaledDotProductAttention(q, randn(4, 2, 2, 5, 3), v))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embedding dims differ").hasMessageContaining("k [2, 2, 5, 3]");
        assertThatThrownBy(() -> F.scaledDotProductAttention(q, k, randn(5, 2, 2, 4, 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lengths differ");
        assertThatThrownBy(() -> F.scaledDotProductAttention(q, k, v, SdpaOptions.builder().keyPaddingMask(Tensor.zeros(2, 5)).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be BOOL");
        assertThatThrownBy(() -> F.scaledDotProductAttention(q, k, v, Tensor.zeros(3, 5).to(DType.I64)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attnMask must be BOOL (true = attend) or floating point")
                .hasMessageContaining("I64 [3, 5]");
    }
}
