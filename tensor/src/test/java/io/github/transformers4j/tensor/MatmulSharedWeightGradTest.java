package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** x (..., k) @ W (k, n) with a 2-D W shared over the batch: W's gradient is one product over all rows. */
class MatmulSharedWeightGradTest {
    @Test
    void gradientsOfBatchedInputTimesSharedMatrixPassAGradCheck() {
        Random4j r = new Random4j(5);
        Tensor x = Tensor.randn(r, 2, 3, 4, 5).to(DType.F64).requiresGrad(true);
        Tensor w = Tensor.randn(r, 5, 6).to(DType.F64).requiresGrad(true);
        assertThat(GradCheck.maxError(t -> t[0].matmul(t[1]).square().sum(), x, w)).isLessThan(1e-6);
        // a non-contiguous input (a permuted view) takes the same path through a copy
        Tensor xt = Tensor.randn(r, 4, 3, 5).to(DType.F64).requiresGrad(true);
        assertThat(GradCheck.maxError(t -> t[0].permute(1, 0, 2).matmul(t[1]).sum(), xt, w)).isLessThan(1e-6);
    }

    @Test
    void sharedMatrixGradientEqualsTheSumOfPerItemGradients() {
        Random4j r = new Random4j(6);
        Tensor x = Tensor.randn(r, 3, 4, 5).to(DType.F64);
        Tensor w = Tensor.randn(r, 5, 2).to(DType.F64).requiresGrad(true);
        Tensor g = Tensor.randn(r, 3, 4, 2).to(DType.F64);
        x.matmul(w).backward(g);
        double[] expected = new double[10];
        for (int b = 0; b < 3; b++) {
            double[] xb = x.select(0, b).toDoubleArray(), gb = g.select(0, b).toDoubleArray();
            for (int p = 0; p < 5; p++)
                for (int j = 0; j < 2; j++)
                    for (int i = 0; i < 4; i++) expected[p * 2 + j] += xb[i * 5 + p] * gb[i * 2 + j];
        }
        double[] got = w.grad().toDoubleArray();
        for (int i = 0; i < 10; i++) assertThat(got[i]).isCloseTo(expected[i], org.assertj.core.api.Assertions.within(1e-12));
    }
}
