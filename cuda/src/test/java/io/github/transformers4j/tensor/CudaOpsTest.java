package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.cuda.Cuda;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every row of the tensor module's op table ({@link OpCases}) run on the CPU and on CUDA from the same inputs:
 * outputs and input gradients (of sum(out * w) for a fixed random w) must agree. F32 within rtol 1e-4 / atol 1e-5;
 * F64 within 1e-9 (the CPU's F64 path is the reference for the GPU's F64 kernels).
 */
@Tag("cuda")
class CudaOpsTest {
    static final Device GPU = Device.cuda(0);

    @BeforeAll
    static void gpu() {
        assertThat(Cuda.isAvailable()).as("CUDA must be available for @Tag(\"cuda\") tests: %s", Cuda.unavailableReason()).isTrue();
    }

    static Stream<OpCases.Case> cases() {
        return OpCases.all().stream();
    }

    /** Output and gradients of one case on one device; inputs are cast to dtype and moved first. */
    record Run(Tensor out, List<Tensor> grads) {}

    static Run run(OpCases.Case c, Tensor[] inputs, DType dtype, Device device) {
        Tensor[] in = new Tensor[inputs.length];
        for (int i = 0; i < in.length; i++) {
            Tensor t = inputs[i].detach();
            boolean grad = inputs[i].requiresGrad();
            if (t.dtype().isFloatingPoint()) t = t.to(dtype);
            t = t.to(device);
            if (grad) t = t.detach().requiresGrad(true);
            in[i] = t;
        }
        Tensor out = c.op().apply(in);
        assertThat(out.device()).as(c.name() + ": output device").isEqualTo(device);
        List<Tensor> grads = new ArrayList<>();
        if (out.requiresGrad()) {
            Tensor w = Tensor.randn(new Random4j(1234), out.shape()).to(out.dtype()).to(device);
            out.mul(w).sum().backward();
            for (Tensor t : in) if (t.requiresGrad()) grads.add(t.grad());
        }
        return new Run(out, grads);
    }

    static void assertClose(String what, Tensor gpu, Tensor cpu, double rtol, double atol) {
        assertThat(gpu).as(what + " missing").isNotNull();
        assertThat(gpu.shape()).as(what + " shape").containsExactly(cpu.shape());
        assertThat(gpu.dtype()).as(what + " dtype").isEqualTo(cpu.dtype());
        double[] g = gpu.to(Device.CPU).toDoubleArray(), c = cpu.toDoubleArray();
        for (int i = 0; i < c.length; i++) {
            double tol = atol + rtol * Math.abs(c[i]);
            if (!(Math.abs(g[i] - c[i]) <= tol) && !(Double.isNaN(g[i]) && Double.isNaN(c[i])) && g[i] != c[i]) {
                throw new AssertionError(what + " element " + i + " of " + Arrays.toString(cpu.shape()) + ": cuda " + g[i]
                        + " vs cpu " + c[i] + " (|diff| " + Math.abs(g[i] - c[i]) + " > " + tol + ")");
            }
        }
    }

    static void compare(OpCases.Case c, DType dtype, double rtol, double atol) {
        Tensor[] inputs = c.inputs().apply(new Random4j(7));
        Run cpu = run(c, inputs, dtype, Device.CPU);
        Run gpu = run(c, inputs, dtype, GPU);
        assertClose(c.name() + " forward", gpu.out(), cpu.out(), rtol, atol);
        assertThat(gpu.grads()).as(c.name() + " gradients").hasSameSizeAs(cpu.grads());
        for (int i = 0; i < cpu.grads().size(); i++) {
            assertClose(c.name() + " gradient of input " + i, gpu.grads().get(i), cpu.grads().get(i), rtol, atol);
        }
    }

    @ParameterizedTest(name = "cuda vs cpu F32: {0}")
    @MethodSource("cases")
    void f32ForwardAndBackwardMatchTheCpu(OpCases.Case c) {
        compare(c, DType.F32, 1e-4, 1e-5);
    }

    @ParameterizedTest(name = "cuda vs cpu F64: {0}")
    @MethodSource("cases")
    void f64ForwardAndBackwardMatchTheCpu(OpCases.Case c) {
        compare(c, DType.F64, 1e-9, 1e-12);
    }
}
