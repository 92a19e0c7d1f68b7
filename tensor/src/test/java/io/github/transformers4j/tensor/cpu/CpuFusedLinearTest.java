package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.assertj.core.data.Offset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU's fused linear (bias in the product's epilogue, weight gradient written in the weight's layout) against the
 * ops it replaces, {@code x.matmul(w.t()).add(b)} and their autograd: the same bits forward and backward, since the
 * README job's results must not move. And against a float64 product, so "the same" also means right.
 */
class CpuFusedLinearTest {
    @ParameterizedTest(name = "x [{0}, {1}, {2}] @ w [{3}, {2}]^T, bias {4}")
    @CsvSource({
        "4, 50, 128, 384, true", // the ViT shapes: one K block
        "2, 33, 600, 37, true", // two K blocks (K > 512), odd columns: masked edges of the bias too
        "1, 3, 5, 7, true", // small: the simple loop
        "1, 2, 64, 300, true", // two rows
        "2, 50, 96, 130, false"})
    void sameBitsAsMatmulThenAdd(int batch, int rows, int k, int n, boolean withBias) {
        assertThat(CpuBackend.INSTANCE.hasFusedLinear(DType.F32)).isTrue();
        Random4j rng = new Random4j(k * 31L + n);
        Tensor x = Tensor.randn(rng, batch, rows, k).requiresGrad(true), w = Tensor.randn(rng, n, k).requiresGrad(true);
        Tensor b = withBias ? Tensor.randn(rng, n).requiresGrad(true) : null;
        Tensor x2 = x.detach().clone().requiresGrad(true), w2 = w.detach().clone().requiresGrad(true);
        Tensor b2 = withBias ? b.detach().clone().requiresGrad(true) : null;
        Tensor g = Tensor.randn(rng, batch, rows, n);

        Tensor fused = NnOps.linear(x, w, b);
        Tensor ops = withBias ? x2.matmul(w2.t()).add(b2) : x2.matmul(w2.t());
        assertThat(fused.shape()).containsExactly(batch, rows, n);
        assertThat(fused.toFloatArray()).containsExactly(ops.toFloatArray());

        fused.mul(g).sum().backward();
        ops.mul(g).sum().backward();
        assertThat(x.grad().toFloatArray()).containsExactly(x2.grad().toFloatArray());
        assertThat(w.grad().toFloatArray()).containsExactly(w2.grad().toFloatArray());
        if (withBias) assertThat(b.grad().toFloatArray()).containsExactly(b2.grad().toFloatArray());

        // against float64
        double[] xd = x.detach().to(DType.F64).toDoubleArray(), wd = w.detach().to(DType.F64).toDoubleArray();
        float[] out = fused.toFloatArray();
        for (int r = 0; r < batch * rows; r += Math.max(1, batch * rows / 7)) {
            for (int j = 0; j < n; j++) {
                double want = withBias ? b.toFloatArray()[j] : 0;
                for (int p = 0; p < k; p++) want += xd[r * k + p] * wd[j * k + p];
                assertThat((double) out[r * n + j]).as("(%d, %d)", r, j).isCloseTo(want, Offset.offset(1e-4 * (1 + Math.sqrt(k))));
            }
        }
    }

    /** K = 0: out is the bias in every row; the weight's gradient is empty and the bias's the column sums of g. */
    @org.junit.jupiter.api.Test
    void emptyInnerDimension() {
        Tensor x = Tensor.zeros(DType.F32, 3, 17, 0).requiresGrad(true), w = Tensor.zeros(DType.F32, 9, 0).requiresGrad(true);
        Tensor b = Tensor.randn(new Random4j(5), 9).requiresGrad(true);
        Tensor out = NnOps.linear(x, w, b);
        assertThat(out.shape()).containsExactly(3, 17, 9);
        float[] o = out.toFloatArray(), bias = b.toFloatArray();
        for (int r = 0; r < 51; r++) for (int j = 0; j < 9; j++) assertThat(o[r * 9 + j]).isEqualTo(bias[j]);
        out.sum().backward();
        assertThat(b.grad().toFloatArray()).containsOnly(51f);
        assertThat(w.grad().shape()).containsExactly(9, 0);
        // the composed path too (its weight gradient reshaped with -1, which K = 0 cannot infer)
        Tensor x2 = Tensor.zeros(DType.F32, 3, 17, 0).requiresGrad(true), w2 = Tensor.zeros(DType.F32, 0, 9).requiresGrad(true);
        Tensor y = x2.matmul(w2);
        assertThat(y.shape()).containsExactly(3, 17, 9);
        assertThat(y.toFloatArray()).containsOnly(0f);
        y.sum().backward();
        assertThat(w2.grad().shape()).containsExactly(0, 9);
        assertThat(x2.grad().shape()).containsExactly(3, 17, 0);
    }
}
