package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AutogradTest {
    @Test
    void aBf16GradientOfAnFp32OutputIsConvertedBeforeTheBackwardFunctionsReadIt() {
        // attention's composite under autocast returns fp32 while the caller's gradient is bf16 (the GPU read it as fp32
        // and ran past the buffer: CUDA_ERROR_ILLEGAL_ADDRESS)
        Tensor q = Tensor.randn(new Random4j(1), 2, 3, 5, 4).requiresGrad(true), k = Tensor.randn(new Random4j(2), 2, 3, 5, 4),
                v = Tensor.randn(new Random4j(3), 2, 3, 5, 4);
        Tensor g = Tensor.randn(new Random4j(4), 2, 3, 5, 4).to(DType.BF16);
        Tensor o = NnOps.scaledDotProductAttention(q, k, v, null, null, 0.5, 0, null);
        assertThat(o.dtype()).isEqualTo(DType.F32);
        o.backward(g);
        Tensor viaBf16 = q.grad().clone();
        q.clearGrad();
        NnOps.scaledDotProductAttention(q, k, v, null, null, 0.5, 0, null).backward(g.to(DType.F32));
        assertThat(viaBf16.toFloatArray()).containsExactly(q.grad().toFloatArray());
    }

    @Test
    void gradientsAccumulateOnLeavesAcrossBackwardCalls() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
        x.mul(2.0).sum().backward();
        x.mul(3.0).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(5, 5, 5);
    }

    @Test
    void aTensorUsedTwiceGetsBothContributions() {
        Tensor x = Tensor.of(new double[] {3}, 1).requiresGrad(true);
        x.mul(x).add(x).sum().backward(); // d/dx (x^2 + x) = 2x + 1
        assertThat(x.grad().item()).isEqualTo(7);
    }

    @Test
    void backwardWithAnExplicitGradient() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor y = x.mul(x);
        y.backward(Tensor.of(new double[] {10, 100}, 2));
        assertThat(x.grad().toDoubleArray()).containsExactly(20, 400);
    }

    @Test
    void leafGradientsMadeInsideAScopeOutliveIt() {
        Tensor w = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true), b = Tensor.of(new double[] {0.5}, 1).requiresGrad(true);
        try (var s = Memory.scope()) {
            w.mul(Tensor.of(new double[] {4, 5, 6}, 3)).add(b).sum().backward();
        }
        assertThat(w.grad().toDoubleArray()).containsExactly(4, 5, 6); // adopted from the scope: still readable
        assertThat(b.grad().toDoubleArray()).containsExactly(3);
        try (var s = Memory.scope()) {
            w.mul(2.0).sum().backward(); // accumulates in place
        }
        assertThat(w.grad().toDoubleArray()).containsExactly(6, 7, 8);
    }

    @Test
    void twoLeavesGivenTheSameGradientObjectDoNotShareStorage() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true), y = Tensor.of(new double[] {3, 4}, 2).requiresGrad(true);
        try (var s = Memory.scope()) {
            x.add(y).mul(Tensor.of(new double[] {2, 3}, 2)).sum().backward(); // add's backward hands both the same tensor
        }
        x.grad().mul_(10);
        assertThat(x.grad().toDoubleArray()).containsExactly(20, 30);
        assertThat(y.grad().toDoubleArray()).containsExactly(2, 3);
    }

    @Test
    void aGradientTheCallerPassesInIsNeverAdopted() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor g;
        try (var s = Memory.scope()) {
            g = Tensor.of(new double[] {7, 8}, 2);                // the caller's tensor, inside the scope
            x.clone().backward(g);                                 // clone's backward passes g through unchanged
            g.mul_(0);
        }
        assertThat(x.grad().toDoubleArray()).containsExactly(7, 8);
    }

    @Test
    void nonScalarBackwardWithoutGradientIsRejected() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        assertThatThrownBy(() -> x.mul(2.0).backward()).hasMessageContaining("scalar").hasMessageContaining("[2]");
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = Tensor.of(new double[] {2}, 1).requiresGrad(true);
        Tensor y = x.mul(x).detach().mul(x);
        y.sum().backward();
        assertThat(x.grad().item()).isEqualTo(4); // only the last factor is differentiated
        assertThat(x.mul(2.0).detach().requiresGrad()).isFalse();
    }

    @Test
    void noGradScopeRecordsNothing() {
        Tensor x = Tensor.of(new double[] {1}, 1).requiresGrad(true);
        Tensor y;
        try (var g = Grad.disabled()) {
            y = x.mul(2.0);
            assertThat(Grad.isEnabled()).isFalse();
        }
        assertThat(Grad.isEnabled()).isTrue();
        assertThat(y.requiresGrad()).isFalse();
        assertThatThrownBy(() -> y.sum().backward()).hasMessageContaining("does not require grad");
    }

    @Test
    void retainGradKeepsIntermediateGradients() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor h = x.mul(3.0).retainGrad();
        h.square().sum().backward();
        assertThat(h.grad().toDoubleArray()).containsExactly(6, 12);
        assertThat(x.grad().toDoubleArray()).containsExactly(18, 36);
    }

    @Test
    void integerTensorsCannotRequireGrad() {
        assertThatThrownBy(() -> Tensor.arange(3).requiresGrad(true)).hasMessageContaining("I64");
    }

    @Test
    void inPlaceUpdateOfAVariableNeedsNoGrad() {
        Tensor w = Tensor.zeros(2).requiresGrad(true);
        assertThatThrownBy(() -> w.add_(Tensor.ones(2), 1)).hasMessageContaining("Grad.disabled");
        try (var g = Grad.disabled()) {
            w.add_(Tensor.ones(2), 0.5);
        }
        assertThat(w.toFloatArray()).containsExactly(0.5f, 0.5f);
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Tensor x = Tensor.of(new double[] {1}, 1).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 20_000; i++) y = y.add(1.0);
        y.sum().backward();
        assertThat(x.grad().item()).isEqualTo(1);
    }

    /** torch.autograd.grad: the gradients are returned, never accumulated; intermediate tensors can be asked for too. */
    @Test
    void gradReturnsTheGradientsWithoutTouchingAnyGrad() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true), w = Tensor.of(new double[] {4, 5, 6}, 3).requiresGrad(true);
        Tensor h = x.mul(w);                           // h = x * w
        Tensor y = h.mul(h).sum();                     // y = sum(h^2): dy/dh = 2h, dy/dx = 2 h w, dy/dw = 2 h x
        Tensor[] g = Autograd.grad(y, null, x, w, h);
        assertThat(g[0].toDoubleArray()).containsExactly(2 * 4 * 4, 2 * 10 * 5, 2 * 18 * 6);
        assertThat(g[1].toDoubleArray()).containsExactly(2 * 4 * 1, 2 * 10 * 2, 2 * 18 * 3);
        assertThat(g[2].toDoubleArray()).containsExactly(8, 20, 36);
        assertThat(x.grad()).isNull();
        assertThat(w.grad()).isNull();
        // the same numbers as backward, which accumulates them
        y.backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(g[0].toDoubleArray());
        assertThat(w.grad().toDoubleArray()).containsExactly(g[1].toDoubleArray());
    }

    @Test
    void gradWithAnOutputGradientAndAnUnusedInput() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true), unused = Tensor.of(new double[] {7}, 1).requiresGrad(true);
        Tensor[] g = Autograd.grad(x.mul(x), Tensor.of(new double[] {10, 100}, 2), x, unused);
        assertThat(g[0].toDoubleArray()).containsExactly(20, 400);
        assertThat(g[1]).isNull(); // allow_unused=True
        assertThatThrownBy(() -> Autograd.grad(x.mul(x), null, x)).hasMessageContaining("give gradOutput");
        assertThatThrownBy(() -> Autograd.grad(x.sum(), null, Tensor.of(new double[] {1}, 1)))
                .hasMessageContaining("input 0 [1] does not require grad");
    }
}
