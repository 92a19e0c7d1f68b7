package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class VecMathTest {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    static float[] inputs() {
        float[] x = new float[4096];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < x.length; i++) x[i] = (float) ((r.nextDouble() - 0.5) * 200); // [-100, 100]
        x[0] = 0f; x[1] = -0f; x[2] = 1e-8f; x[3] = -1e-8f; x[4] = 88.7f; x[5] = -87.4f; x[6] = 0.625f; x[7] = -0.6249f;
        return x;
    }

    /** exp, tanh and lane sums of the inputs, through the vector paths. */
    static float[] compute(float[] x) {
        float[] out = new float[x.length * 2 + x.length / S.length()];
        for (int i = 0, k = 0; i < x.length; i += S.length(), k++) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            VecMath.exp(v).intoArray(out, i);
            VecMath.tanh(v).intoArray(out, x.length + i);
            out[2 * x.length + k] = (float) VecMath.sum(v);
        }
        return out;
    }

    @Test
    void expIsWithinTwoUlpsOfMathExp() {
        for (float x : inputs()) {
            float got = VecMath.exp(x);
            double want = Math.exp(x);
            if (want > Float.MAX_VALUE) assertThat(got).isEqualTo(Float.POSITIVE_INFINITY);
            else if (want < 1.2e-38) assertThat(got).isLessThan(1.2e-38f);
            else assertThat(Math.abs(got - want)).as("exp(%s)", x).isLessThanOrEqualTo(2 * Math.ulp((float) want));
        }
        assertThat(VecMath.exp(Float.NaN)).isNaN();
        assertThat(VecMath.exp(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(VecMath.exp(Float.POSITIVE_INFINITY)).isInfinite();
        assertThat(VecMath.exp(0f)).isEqualTo(1f);
    }

    @Test
    void tanhIsWithinTwoUlpsOfMathTanh() {
        for (float x : inputs()) {
            float got = VecMath.tanh(x);
            double want = Math.tanh(x);
            assertThat(Math.abs(got - want)).as("tanh(%s)", x).isLessThanOrEqualTo(2 * Math.ulp((float) want) + 1e-30);
        }
        assertThat(VecMath.tanh(Float.NaN)).isNaN();
        assertThat(VecMath.tanh(Float.POSITIVE_INFINITY)).isEqualTo(1f);
        assertThat(VecMath.tanh(Float.NEGATIVE_INFINITY)).isEqualTo(-1f);
    }

    @Test
    void vectorLanesEqualTheScalarFunctionBitForBit() {
        float[] x = inputs();
        float[] v = compute(x);
        for (int i = 0; i < x.length; i++) {
            assertThat(v[i]).as("exp(%s)", x[i]).isEqualTo(VecMath.exp(x[i]));
            assertThat(v[x.length + i]).as("tanh(%s)", x[i]).isEqualTo(VecMath.tanh(x[i]));
        }
        float[] special = new float[S.length()];
        Arrays.fill(special, Float.NaN);
        special[0] = Float.POSITIVE_INFINITY;
        special[1] = Float.NEGATIVE_INFINITY;
        float[] e = VecMath.exp(FloatVector.fromArray(S, special, 0)).toArray();
        assertThat(e[0]).isInfinite();
        assertThat(e[1]).isZero();
        assertThat(e[2]).isNaN();
    }

    /** The interpreter (-Xint, the Vector API's Java fallback) and C2-compiled code give the same bits. */
    @Test
    void interpreterAndCompiledCodeAgree() throws Exception {
        float[] x = inputs();
        float[] compiled = null;
        for (int i = 0; i < 3000; i++) compiled = compute(x); // warm up into C2
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xint", "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), Child.class.getName()).redirectErrorStream(true).start();
        String line, hash = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            while ((line = r.readLine()) != null) if (line.startsWith("hash ")) hash = line.substring(5);
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(hash).as("child printed its hash").isNotNull();
        assertThat(hash).isEqualTo(String.valueOf(Arrays.hashCode(compiled)));
    }

    public static final class Child {
        public static void main(String[] args) {
            System.out.println("hash " + Arrays.hashCode(compute(inputs())));
        }
    }
}
