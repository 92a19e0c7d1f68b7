package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RandomTest {
    @Test
    void sameSeedSameNumbersDifferentSeedDifferentNumbers() {
        float[] a = Tensor.randn(new Random4j(5), 1000).toFloatArray();
        float[] b = Tensor.randn(new Random4j(5), 1000).toFloatArray();
        float[] c = Tensor.randn(new Random4j(6), 1000).toFloatArray();
        assertThat(a).containsExactly(b);
        assertThat(Arrays.equals(a, c)).isFalse();
    }

    /** Elements are a pure function of (seed, counter, index): a serial loop gives the same bits as the parallel fill. */
    @Test
    void valuesDoNotDependOnHowTheFillIsSplitAcrossThreads() {
        int n = 100_003; // large enough to be split across threads
        float[] parallel = Tensor.rand(new Random4j(42), n).toFloatArray();
        for (int i = 0; i < n; i++) {
            assertThat(parallel[i]).isEqualTo(Random4j.uniformFloat(Random4j.bits(42, 0, i)));
        }
    }

    @Test
    void successiveDrawsAdvanceTheCounter() {
        Random4j r = new Random4j(1);
        float[] first = Tensor.rand(r, 10).toFloatArray();
        float[] second = Tensor.rand(r, 10).toFloatArray();
        assertThat(Arrays.equals(first, second)).isFalse();
        assertThat(r.counter()).isEqualTo(6); // ceil(10/4) blocks per draw
        Random4j resumed = new Random4j(1, 3);
        assertThat(Tensor.rand(resumed, 10).toFloatArray()).containsExactly(second);
    }

    @Test
    void distributionsHaveTheRightMoments() {
        double[] u = Tensor.rand(new Random4j(3), 200_000).toDoubleArray();
        double[] z = Tensor.randn(new Random4j(3), 200_000).toDoubleArray();
        assertThat(Arrays.stream(u).average().orElseThrow()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.005));
        assertThat(Arrays.stream(u).min().orElseThrow()).isGreaterThanOrEqualTo(0);
        assertThat(Arrays.stream(u).max().orElseThrow()).isLessThan(1);
        double mean = Arrays.stream(z).average().orElseThrow();
        double var = Arrays.stream(z).map(v -> (v - mean) * (v - mean)).average().orElseThrow();
        assertThat(mean).isCloseTo(0, org.assertj.core.data.Offset.offset(0.01));
        assertThat(var).isCloseTo(1, org.assertj.core.data.Offset.offset(0.02));
    }

    @Test
    void randintAndRandperm() {
        long[] v = Tensor.randint(new Random4j(9), -3, 4, 5000).toLongArray();
        assertThat(Arrays.stream(v).min().orElseThrow()).isEqualTo(-3);
        assertThat(Arrays.stream(v).max().orElseThrow()).isEqualTo(3);
        long[] p = Tensor.randperm(new Random4j(9), 50).toLongArray();
        long[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 50; i++) assertThat(sorted[i]).isEqualTo(i);
        assertThat(p).containsExactly(Tensor.randperm(new Random4j(9), 50).toLongArray());
        assertThat(Arrays.equals(p, sorted)).isFalse();
    }
}
