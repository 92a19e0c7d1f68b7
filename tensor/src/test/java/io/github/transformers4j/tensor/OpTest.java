package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every differentiable op: forward against a naive reference (F64 and F32) and an F64 finite-difference gradient check. */
class OpTest {
    static Stream<OpCases.Case> cases() {
        return OpCases.all().stream();
    }

    private static void assertClose(Tensor actual, Nd expected, double rtol, double atol, String what) {
        assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
        double[] a = actual.toDoubleArray(), e = expected.data();
        for (int i = 0; i < a.length; i++) {
            assertThat(Math.abs(a[i] - e[i])).as("%s element %d: %s vs expected %s", what, i, a[i], e[i])
                    .isLessThanOrEqualTo(atol + rtol * Math.abs(e[i]));
        }
    }

    @ParameterizedTest(name = "forward F64: {0}")
    @MethodSource("cases")
    void forwardF64(OpCases.Case c) {
        Tensor[] in = c.inputs().apply(new Random4j(7));
        Nd[] nd = Arrays.stream(in).map(Nd::of).toArray(Nd[]::new);
        assertClose(c.op().apply(in), c.ref().apply(nd), 1e-10, 1e-12, c.name());
    }

    @ParameterizedTest(name = "forward F32: {0}")
    @MethodSource("cases")
    void forwardF32(OpCases.Case c) {
        Tensor[] in = c.inputs().apply(new Random4j(7));
        Tensor[] in32 = Arrays.stream(in).map(t -> t.dtype() == DType.F64 ? t.detach().to(DType.F32) : t).toArray(Tensor[]::new);
        // the reference sees exactly the float32 inputs
        Nd[] nd = Arrays.stream(in32).map(Nd::of).toArray(Nd[]::new);
        Tensor out = c.op().apply(in32);
        assertThat(out.dtype()).isEqualTo(DType.F32);
        assertClose(out, c.ref().apply(nd), 2e-5, 2e-5, c.name());
    }

    @ParameterizedTest(name = "gradient check: {0}")
    @MethodSource("cases")
    void gradientCheck(OpCases.Case c) {
        Tensor[] in = c.inputs().apply(new Random4j(11));
        assertThat(GradCheck.maxError(c.op(), in)).as(c.name()).isLessThan(1e-6);
    }

    /** Public ops that have no gradient by nature, or are factories / in-place / infrastructure. */
    static final Set<String> NOT_DIFFERENTIABLE = Set.of(
            "eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr", "logicalNot", "argmax", "argmin", "sign",
            "detach", "requiresGrad", "retainGrad", "keep", "grad", "add_", "mul_", "copy_", "zero_", "fill_",
            "zeros", "ones", "full", "zerosLike", "onesLike", "scalar", "arange", "eye", "of", "ofLongs", "ofInts",
            "ofBooleans", "fromBytes", "rand", "randn", "randint", "randperm", "adamStep", "causalMask",
            // in-place updates without autograd (like add_): a host upload, the gradient clip of a training step
            "copyFrom", "clipGradNorm_");

    /** Methods that return lists of views (split, chunk) are covered by name too. */
    @Test
    void everyDifferentiableOpHasACase() {
        Set<String> covered = OpCases.all().stream().map(c -> c.name().split(" ")[0]).collect(Collectors.toSet());
        Set<String> ops = new TreeSet<>();
        for (Class<?> cls : List.of(Tensor.class, NnOps.class)) {
            for (Method m : cls.getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers())) continue;
                boolean returnsTensors = m.getReturnType() == Tensor.class || m.getReturnType() == List.class;
                if (returnsTensors && !NOT_DIFFERENTIABLE.contains(m.getName())) ops.add(m.getName());
            }
        }
        // to(DType) has its own test below (a float32 round trip defeats finite differences); to(Device) runs on a GPU
        ops.remove("to");
        Set<String> missing = new TreeSet<>(ops);
        missing.removeAll(covered);
        assertThat(missing).as("differentiable ops without a forward+gradient case").isEmpty();
    }

    @Test
    void toDtypeIsDifferentiableAndRounds() {
        Tensor x = Tensor.of(new double[] {1.0 / 3, -2.5, 1e-3}, 3).requiresGrad(true);
        Tensor y = x.to(DType.F32);
        assertThat(y.dtype()).isEqualTo(DType.F32);
        assertThat(y.toDoubleArray()).containsExactly((float) (1.0 / 3), -2.5f, 1e-3f);
        y.mul(Tensor.of(new float[] {2, 3, 4}, 3)).sum().backward();
        assertThat(x.grad().dtype()).isEqualTo(DType.F64);
        assertThat(x.grad().toDoubleArray()).containsExactly(2, 3, 4);
    }

    @Test
    void embeddingPaddingRowGetsNoGradient() {
        Tensor w = Tensor.randn(new Random4j(3), 5, 3).requiresGrad(true);
        NnOps.embedding(w, Tensor.ofLongs(new long[] {0, 1, 4, 1}, 4), 1).sum().backward();
        double[] g = w.grad().toDoubleArray();
        assertThat(Arrays.copyOfRange(g, 3, 6)).containsOnly(0.0);   // row 1 = padding_idx
        assertThat(Arrays.copyOfRange(g, 0, 3)).containsOnly(1.0);
        assertThat(Arrays.copyOfRange(g, 12, 15)).containsOnly(1.0);
    }
}
