package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The float32 softmax rows (vector body, scalar tail) forward and backward, against the same ops in
 * float64 (scalar loops, what the gradient checks cover): row lengths below, at and across the vector length, and a
 * row whose every entry is masked (-inf).
 */
class CpuNormTest {
    @ParameterizedTest(name = "{0}, rows of {1}")
    @CsvSource({"softmax, 7", "softmax, 16", "softmax, 32", "softmax, 50", "softmax, 65", "softmax, 200",
                "logSoftmax, 7", "logSoftmax, 50", "logSoftmax, 65"})
    void float32RowsFollowFloat64(String op, int d) {
        UnaryOperator<Tensor> f = op.equals("softmax") ? x -> x.softmax(-1) : x -> x.logSoftmax(-1);
        Random4j r = new Random4j(d);
        Tensor x64 = Tensor.randn(r, 5, d).mul(3.0).to(DType.F64), g64 = Tensor.randn(r, 5, d).to(DType.F64);
        // row 2 fully masked: softmax gives zeros, log-softmax -inf, and neither gradient is NaN
        float[] masked = x64.to(DType.F32).toFloatArray();
        java.util.Arrays.fill(masked, 2 * d, 3 * d, Float.NEGATIVE_INFINITY);
        Tensor x32 = Tensor.of(masked, 5, d).requiresGrad(true);
        Tensor xr = Tensor.of(masked, 5, d).to(DType.F64).requiresGrad(true);

        Tensor y32 = f.apply(x32), yr = f.apply(xr);
        f.apply(x32).mul(g64.to(DType.F32)).sum().backward();
        f.apply(xr).mul(g64).sum().backward();

        assertClose(y32.toDoubleArray(), yr.toDoubleArray(), 2e-6);
        assertClose(x32.grad().toDoubleArray(), xr.grad().toDoubleArray(), 2e-5);
        for (int k = 2 * d; k < 3 * d; k++) {
            assertThat(y32.toDoubleArray()[k]).isEqualTo(op.equals("softmax") ? 0.0 : Double.NEGATIVE_INFINITY);
            assertThat(x32.grad().toDoubleArray()[k]).isFinite();
        }
    }

    private static void assertClose(double[] got, double[] want, double tol) {
        assertThat(got).hasSameSizeAs(want);
        for (int i = 0; i < got.length; i++) {
            if (Double.isInfinite(want[i])) assertThat(got[i]).as("entry %d", i).isEqualTo(want[i]);
            else assertThat(got[i]).as("entry %d", i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(tol * (1 + Math.abs(want[i]))));
        }
    }
}
