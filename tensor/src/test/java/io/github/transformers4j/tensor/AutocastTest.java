package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** bf16 autocast: products take rounded operands, accumulate in fp32 and return bf16; weights and their gradients stay fp32. */
class AutocastTest {
    /** bf16 rounding of a float (round to nearest even), written out here as the reference. */
    static double bf16(double v) {
        int bits = Float.floatToRawIntBits((float) v);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }

    /** Reference: (round(a) @ round(b)) in double, then rounded to bf16 (the product's output type). */
    static double[] reference(float[] a, float[] b, int m, int k, int n) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += bf16(a[i * k + p]) * bf16(b[p * n + j]);
                out[i * n + j] = bf16(s);
            }
        return out;
    }

    static double maxRel(float[] got, double[] want) {
        double worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1e-3, Math.abs(want[i])));
        return worst;
    }

    @Test
    void matmulRoundsItsOperandsAndReturnsBf16() {
        Random4j rng = new Random4j(1);
        int m = 7, k = 33, n = 5;
        Tensor a = Tensor.randn(rng, m, k), b = Tensor.randn(rng, k, n);
        Tensor exact = a.matmul(b), mixed;
        try (var ac = Autocast.enable(DType.BF16)) {
            mixed = a.matmul(b);
        }
        assertThat(mixed.dtype()).isEqualTo(DType.BF16);
        double[] want = reference(a.toFloatArray(), b.toFloatArray(), m, k, n);
        // fp32 accumulation vs the double reference: at most one bf16 rounding step apart (2^-8 relative)
        assertThat(maxRel(mixed.toFloatArray(), want)).isLessThan(1.0 / 256);
        // and it really is not the fp32 product
        assertThat(maxRel(mixed.toFloatArray(), toDouble(exact.toFloatArray()))).isGreaterThan(1e-4);
        // off again after the scope
        assertThat(a.matmul(b).toFloatArray()).containsExactly(exact.toFloatArray());
    }

    @Test
    void linearReturnsBf16WithTheBiasAddedBeforeTheOneRoundingAndFp32WeightGradients() {
        Random4j rng = new Random4j(2);
        int m = 4, k = 16, n = 8;
        Tensor x = Tensor.randn(rng, m, k).requiresGrad(true);
        Tensor w = Tensor.randn(rng, n, k).mul(0.25).detach().requiresGrad(true);
        Tensor bias = Tensor.randn(rng, n).detach().requiresGrad(true);
        Tensor y;
        try (var ac = Autocast.enable(DType.BF16)) {
            y = NnOps.linear(x, w, bias);
        }
        assertThat(y.dtype()).isEqualTo(DType.BF16);
        // reference: bf16(sum_k bf16(x) bf16(w) + bf16(bias)) in double
        float[] xf = x.toFloatArray(), wf = w.toFloatArray(), bf = bias.toFloatArray(), got = y.toFloatArray();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = bf16(bf[j]);
                for (int p = 0; p < k; p++) s += bf16(xf[i * k + p]) * bf16(wf[j * k + p]);
                assertThat((double) got[i * n + j]).isCloseTo(bf16(s), org.assertj.core.data.Offset.offset(Math.abs(s) / 128 + 1e-6));
            }
        y.to(DType.F32).square().mean().backward();
        assertThat(x.grad().dtype()).isEqualTo(DType.F32);
        assertThat(w.grad().dtype()).isEqualTo(DType.F32);
        assertThat(bias.grad().dtype()).isEqualTo(DType.F32);
        // the gradients are those of the fp32 layer within bf16 rounding
        Tensor x2 = x.detach().requiresGrad(true), w2 = w.detach().requiresGrad(true), b2 = bias.detach().requiresGrad(true);
        NnOps.linear(x2, w2, b2).square().mean().backward();
        assertThat(normRel(w.grad(), w2.grad())).isLessThan(2e-2).isGreaterThan(0);
        assertThat(normRel(x.grad(), x2.grad())).isLessThan(2e-2).isGreaterThan(0);
        assertThat(normRel(bias.grad(), b2.grad())).isLessThan(2e-2);
        assertThat(x.grad().toFloatArray()).doesNotContain(Float.NaN);
    }

    @Test
    void bf16ActivationsFlowIntoTheNextProductWithoutAWideCopyAndPromoteInAResidualAdd() {
        Random4j rng = new Random4j(5);
        Tensor x = Tensor.randn(rng, 6, 8).requiresGrad(true);
        Tensor w1 = Tensor.randn(rng, 16, 8).mul(0.3).detach().requiresGrad(true), w2 = Tensor.randn(rng, 8, 16).mul(0.3).detach().requiresGrad(true);
        Tensor h, y, out;
        try (var ac = Autocast.enable(DType.BF16)) {
            h = NnOps.linear(x, w1, null).gelu();
            y = NnOps.linear(h, w2, null);
            out = x.add(y); // residual stream: fp32 + bf16 -> fp32
            assertThat(h.dtype()).isEqualTo(DType.BF16);
            assertThat(y.dtype()).isEqualTo(DType.BF16);
            assertThat(out.dtype()).isEqualTo(DType.F32);
            // softmax and layer norm take the low activation in fp32, as torch.autocast
            assertThat(NnOps.softmax(y, -1, false).dtype()).isEqualTo(DType.F32);
            assertThat(NnOps.layerNorm(y, 1, null, null, 1e-5).dtype()).isEqualTo(DType.F32);
            // the product of an fp32 tensor and a bf16 one is a bf16 product
            assertThat(h.matmul(w2.t()).dtype()).isEqualTo(DType.BF16);
        }
        out.square().sum().backward();
        assertThat(w1.grad().dtype()).isEqualTo(DType.F32);
        assertThat(w2.grad().dtype()).isEqualTo(DType.F32);
        Tensor x2 = x.detach().requiresGrad(true), v1 = w1.detach().requiresGrad(true), v2 = w2.detach().requiresGrad(true);
        x2.add(NnOps.linear(NnOps.linear(x2, v1, null).gelu(), v2, null)).square().sum().backward();
        assertThat(normRel(w1.grad(), v1.grad())).isLessThan(3e-2).isGreaterThan(0);
        assertThat(normRel(w2.grad(), v2.grad())).isLessThan(3e-2).isGreaterThan(0);
        assertThat(normRel(x.grad(), x2.grad())).isLessThan(3e-2);
    }

    @Test
    void linearReluIsLinearThenReluInOneOpWithTheSameValuesAndGradients() {
        Random4j rng = new Random4j(21);
        Tensor x0 = Tensor.randn(rng, 3, 5, 16), w0 = Tensor.randn(rng, 24, 16).mul(0.25), b0 = Tensor.randn(rng, 24);
        Tensor g = Tensor.randn(rng, 3, 5, 24);
        for (DType low : new DType[] {DType.BF16, null}) {
            Tensor yf, yp;
            Tensor x = x0.detach().requiresGrad(true), w = w0.detach().requiresGrad(true), b = b0.detach().requiresGrad(true);
            try (var ac = Autocast.enable(low)) {
                yf = NnOps.linearRelu(x, w, b);
            }
            yf.backward(g.to(yf.dtype()));
            Tensor[] fused = {x.grad(), w.grad(), b.grad()};
            Tensor x2 = x0.detach().requiresGrad(true), w2 = w0.detach().requiresGrad(true), b2 = b0.detach().requiresGrad(true);
            try (var ac = Autocast.enable(low)) {
                yp = NnOps.linear(x2, w2, b2).relu();
            }
            yp.backward(g.to(yp.dtype()));
            Tensor[] plain = {x2.grad(), w2.grad(), b2.grad()};
            assertThat(yf.dtype()).as("%s", low).isEqualTo(low == null ? DType.F32 : low);
            // ReLU commutes with the one rounding: the same bits; and some outputs are clipped
            assertThat(yf.toFloatArray()).as("%s", low).containsExactly(yp.toFloatArray());
            assertThat(yf.toFloatArray()).contains(0f);
            for (int i = 0; i < 3; i++) assertThat(fused[i].toFloatArray()).as("%s gradient %d", low, i).containsExactly(plain[i].toFloatArray());
        }
    }

    @Test
    void reluBackwardIsTheGradientTimesTheStepInOnePassKeepingSignedZerosAndNaN() {
        Tensor g = Tensor.of(new float[] {-2f, 3f, -0.5f, Float.NaN, 4f, 1f, -1f}, 7);
        Tensor x = Tensor.of(new float[] {1f, -1f, -0f, 2f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE}, 7);
        float[] want = new float[7];
        float[] gs = g.toFloatArray(), xs = x.toFloatArray();
        for (int i = 0; i < 7; i++) want[i] = gs[i] * (xs[i] > 0 ? 1f : 0f); // -0.5 * 0 = -0: the sign of g is kept
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16}) {
            Tensor got = Elementwise.binary(BinaryOp.RELU_BACKWARD, g.to(dt), x.to(dt));
            Tensor viaStep = g.to(dt).mul(x.to(dt).gt(0.0).to(dt));
            assertThat(got.toFloatArray()).as("%s", dt).containsExactly(viaStep.toFloatArray());
        }
        assertThat(Elementwise.binary(BinaryOp.RELU_BACKWARD, g, x).toFloatArray()).containsExactly(want);
        // the relu's gradient through autograd
        Tensor xr = Tensor.randn(new Random4j(4), 1000).requiresGrad(true), gr = Tensor.randn(new Random4j(5), 1000);
        xr.relu().backward(gr);
        float[] xv = xr.toFloatArray(), gv = gr.toFloatArray(), dv = xr.grad().toFloatArray();
        for (int i = 0; i < xv.length; i++) assertThat(dv[i]).isEqualTo(xv[i] > 0 ? gv[i] : 0f * gv[i]);
    }

    @Test
    void geluOfBf16HasItsGradientInOnePassRoundedOnce() {
        Tensor x = Tensor.randn(new Random4j(8), 257).mul(2).to(DType.BF16).requiresGrad(true);
        Tensor g = Tensor.randn(new Random4j(9), 257).to(DType.BF16);
        x.gelu().backward(g);
        assertThat(x.grad().dtype()).isEqualTo(DType.BF16);
        float[] xs = x.detach().toFloatArray(), gs = g.toFloatArray(), got = x.grad().toFloatArray();
        for (int i = 0; i < xs.length; i++) {
            double v = xs[i], cdf = 0.5 * (1 + erf(v / Math.sqrt(2))), pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
            assertThat(got[i]).as("x = %s", v).isEqualTo((float) bf16(gs[i] * (cdf + v * pdf)));
        }
    }

    /** erf by its Taylor series (|x| < 6 here: 120 terms in double are plenty). */
    private static double erf(double x) {
        if (Math.abs(x) > 5.5) return Math.signum(x);
        double term = x, sum = x;
        for (int n = 1; n < 200; n++) {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    @Test
    void bf16DropoutKeepsWhatTheFp32DropoutKeepsAndRoundsOnce() {
        Tensor x = Tensor.randn(new Random4j(7), 1000);
        Tensor low = x.to(DType.BF16);
        Tensor d32 = NnOps.dropout(low.to(DType.F32), 0.1, true, new Random4j(11));
        Tensor d16 = NnOps.dropout(low, 0.1, true, new Random4j(11));
        assertThat(d16.dtype()).isEqualTo(DType.BF16);
        float[] a = d32.toFloatArray(), b = d16.toFloatArray();
        for (int i = 0; i < a.length; i++) assertThat(b[i]).isEqualTo((float) bf16(a[i]));
    }

    @Test
    void f64AndIntegerTensorsAreLeftAlone() {
        Tensor a = Tensor.randn(new Random4j(3), 3, 3).to(DType.F64);
        try (var ac = Autocast.enable(DType.BF16)) {
            Tensor p = a.matmul(a);
            assertThat(p.dtype()).isEqualTo(DType.F64);
            assertThat(p.toDoubleArray()).containsExactly(withoutAutocast(() -> a.matmul(a)).toDoubleArray());
        }
    }

    @Test
    void scopesNestAndRejectWideTypes() {
        assertThat(Autocast.dtype()).isNull();
        try (var outer = Autocast.enable(DType.BF16)) {
            try (var inner = Autocast.enable(null)) {
                assertThat(Autocast.dtype()).isNull();
            }
            assertThat(Autocast.dtype()).isEqualTo(DType.BF16);
        }
        assertThat(Autocast.dtype()).isNull();
        assertThatThrownBy(() -> Autocast.enable(DType.F32)).hasMessageContaining("BF16 or F16");
        assertThat(Autocast.parse("bf16")).isEqualTo(DType.BF16);
        assertThat(Autocast.parse("fp32")).isNull();
        assertThatThrownBy(() -> Autocast.parse("fp16")).hasMessageContaining("fp32 or bf16");
    }

    /** ||got - want|| / ||want||: element-wise ratios mean little where a sum cancels. */
    static double normRel(Tensor got, Tensor want) {
        float[] g = got.toFloatArray(), w = want.toFloatArray();
        double d = 0, n = 0;
        for (int i = 0; i < g.length; i++) {
            d += (g[i] - w[i]) * (double) (g[i] - w[i]);
            n += w[i] * (double) w[i];
        }
        return Math.sqrt(d / n);
    }

    private static Tensor withoutAutocast(java.util.function.Supplier<Tensor> f) {
        try (var off = Autocast.enable(null)) {
            return f.get();
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
