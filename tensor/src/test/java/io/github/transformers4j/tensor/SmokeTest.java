package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void basics() {
        Random4j r = new Random4j(0);
        Tensor a = Tensor.randn(r, 3, 4).requiresGrad(true);
        Tensor b = Tensor.randn(r, 4, 5).requiresGrad(true);
        Tensor y = a.matmul(b).relu().softmax(-1).sum();
        y.backward();
        assertThat(a.grad().shape()).containsExactly(3, 4);
        double err = GradCheck.maxError(x -> x[0].matmul(x[1]).gelu().logSoftmax(-1), a, b);
        assertThat(err).isLessThan(1e-6);
        double err2 = GradCheck.maxError(x -> NnOps.layerNorm(x[0], 1, x[1], null, 1e-5), Tensor.randn(r, 3, 6).requiresGrad(true), Tensor.randn(r, 6).requiresGrad(true));
        assertThat(err2).isLessThan(1e-6);
        double err3 = GradCheck.maxError(x -> Tensor.einsum("bij,bjk->bik", x[0], x[1]).sum(1, false), Tensor.randn(r, 2, 3, 4).requiresGrad(true), Tensor.randn(r, 2, 4, 2).requiresGrad(true));
        assertThat(err3).isLessThan(1e-6);
    }
}
