package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

/**
 * Elementwise kernels on rows longer than one task's piece (a contiguous tensor is one long row, cut across threads),
 * against plain Java loops over the same floats.
 */
class CpuElementwiseTest {
    static final int LONG = 3 * (1 << 15) + 37; // three whole pieces and a ragged one, not a multiple of a vector

    /**
     * GELU's gradient (Phi(x) + x phi(x), one exp for both terms): into a new tensor and in place it gives the same
     * bits, and both follow the double-precision scalar kernel (the tails' reference) within erf's 1.5e-7.
     */
    @Test
    void geluGradientInPlaceEqualsOutOfPlaceAndTheScalarKernel() {
        Tensor x = Tensor.randn(new Random4j(5), LONG).mul(3.0);
        float[] in = x.toFloatArray();
        Tensor out = Tensor.zeros(LONG);
        CpuBackend.INSTANCE.unary(UnaryOp.GELU_GRAD, 0, 0, x, out);
        CpuBackend.INSTANCE.unary(UnaryOp.GELU_GRAD, 0, 0, x, x); // x is overwritten by its own gradient
        float[] separate = out.toFloatArray(), inPlace = x.toFloatArray();
        assertThat(inPlace).isEqualTo(separate);
        for (int i = 0; i < LONG; i++)
            assertThat((double) separate[i]).as("gelu'(%s) at %d", in[i], i)
                    .isCloseTo(Scalar.unary(UnaryOp.GELU_GRAD, 0, 0, in[i]), org.assertj.core.data.Offset.offset(2e-6));
    }

    /**
     * GELU's backward in one pass (GELU_BACKWARD, what autograd runs for F32) gives the bits of gelu' followed by a
     * product, on a training shape (a feed-forward block's activations, cut into vector-aligned pieces by both paths);
     * on a ragged length the two paths cut it elsewhere and the elements one computes in double (a piece's scalar
     * tail) the other computes in float: within erf's float error there.
     */
    @Test
    void geluBackwardInOnePassHasTheBitsOfTheGradientThenAProduct() {
        for (int n : new int[] {6400 * 512, LONG}) {
            Random4j rng = new Random4j(n);
            Tensor x = Tensor.randn(rng, n).mul(3.0), g = Tensor.randn(rng, n);
            Tensor grad = Tensor.zeros(n), twoPass = Tensor.zeros(n), fused = Tensor.zeros(n);
            CpuBackend.INSTANCE.unary(UnaryOp.GELU_GRAD, 0, 0, x, grad);
            CpuBackend.INSTANCE.binary(BinaryOp.MUL, g, grad, twoPass);
            CpuBackend.INSTANCE.binary(BinaryOp.GELU_BACKWARD, g, x, fused);
            float[] a = fused.toFloatArray(), b = twoPass.toFloatArray();
            if (n == LONG) {
                for (int i = 0; i < n; i++) assertThat(a[i]).as("at %d", i).isCloseTo(b[i], org.assertj.core.data.Offset.offset(1e-6f));
            } else {
                assertThat(a).isEqualTo(b);
            }
            // and autograd takes it: x.gelu() backward with g is the fused product
            Tensor xr = x.detach().requiresGrad(true);
            xr.gelu().backward(g);
            assertThat(xr.grad().toFloatArray()).isEqualTo(a);
        }
    }

    @Test
    void binaryOnLongRowsMatchesAScalarLoop() {
        Random4j rng = new Random4j(3);
        Tensor a = Tensor.randn(rng, 2, LONG), b = Tensor.randn(rng, 2, LONG), row = Tensor.randn(rng, 1, LONG);
        float[] x = a.toFloatArray(), y = b.toFloatArray(), r = row.toFloatArray();
        float[] sum = a.add(b).toFloatArray(), prod = a.mul(row).toFloatArray(), diff = a.sub(b.select(0, 1)).toFloatArray();
        for (int i = 0; i < 2 * LONG; i++) {
            assertThat(sum[i]).as("add %d", i).isEqualTo(x[i] + y[i]);
            assertThat(prod[i]).as("mul by a broadcast row %d", i).isEqualTo(x[i] * r[i % LONG]);
            assertThat(diff[i]).as("sub a broadcast row %d", i).isEqualTo(x[i] - y[LONG + i % LONG]);
        }
        float[] scaled = a.div(Tensor.scalar(4f)).toFloatArray();
        for (int i = 0; i < 2 * LONG; i++) assertThat(scaled[i]).as("div by a scalar %d", i).isEqualTo(x[i] / 4f);
    }

    @Test
    void stridedCopiesOfContiguousRowsMatchTheSource() {
        Random4j rng = new Random4j(4);
        Tensor t = Tensor.randn(rng, 5, 7, 33); // (B, L, E) -> (L, B, E): rows of 33 stay contiguous
        float[] src = t.toFloatArray(), out = t.permute(1, 0, 2).contiguous().toFloatArray();
        for (int l = 0; l < 7; l++)
            for (int b = 0; b < 5; b++)
                for (int e = 0; e < 33; e++) assertThat(out[(l * 5 + b) * 33 + e]).isEqualTo(src[(b * 7 + l) * 33 + e]);
    }
}
