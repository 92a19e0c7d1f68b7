package io.github.transformers4j.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SampleRngTest {
    @Test
    void splitMix64MatchesTheReferenceSequence() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c; also java.util.SplittableRandom's
        // mixer with the golden gamma): first outputs.
        SampleRng rng = new SampleRng(0);
        assertThat(rng.nextLong()).isEqualTo(0xE220A8397B1DCDAFL);
        assertThat(rng.nextLong()).isEqualTo(0x6E789E6AA1B965F4L);
        assertThat(rng.nextLong()).isEqualTo(0x06C45D188009454FL);
    }

    @Test
    void nextIntStaysInRangeAndCoversItEvenly() {
        SampleRng rng = new SampleRng(7);
        int[] counts = new int[5];
        for (int i = 0; i < 50_000; i++) counts[rng.nextInt(5)]++;
        for (int c : counts) assertThat(c).isBetween(9_500, 10_500);
        assertThatThrownBy(() -> rng.nextInt(0)).hasMessageContaining("bound must be positive, got 0");
    }

    @Test
    void nextDoubleIsInUnitInterval() {
        SampleRng rng = new SampleRng(3);
        double sum = 0;
        for (int i = 0; i < 10_000; i++) {
            double d = rng.nextDouble();
            assertThat(d).isGreaterThanOrEqualTo(0).isLessThan(1);
            sum += d;
        }
        assertThat(sum / 10_000).isBetween(0.48, 0.52);
    }

    @Test
    void permutationHoldsEveryIndexOnce() {
        int[] p = new SampleRng(11).permutation(100);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 100; i++) assertThat(sorted[i]).isEqualTo(i);
        assertThat(p).isNotEqualTo(sorted);
    }

    @Test
    void perSampleGeneratorsDependOnSeedEpochAndIndex() {
        long a = SampleRng.of(1, 0, 5).nextLong();
        assertThat(SampleRng.of(1, 0, 5).nextLong()).isEqualTo(a);
        assertThat(SampleRng.of(2, 0, 5).nextLong()).isNotEqualTo(a);
        assertThat(SampleRng.of(1, 1, 5).nextLong()).isNotEqualTo(a);
        assertThat(SampleRng.of(1, 0, 6).nextLong()).isNotEqualTo(a);
        // epoch and index are not interchangeable
        assertThat(SampleRng.of(1, 5, 0).nextLong()).isNotEqualTo(a);
    }
}
