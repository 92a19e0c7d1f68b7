package io.github.transformers4j.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DatasetsTest {
    /** Sample i is the integer i. */
    static Dataset<Integer> range(int n) {
        return new Dataset<>() {
            @Override public int size() { return n; }
            @Override public Integer get(int index) {
                Dataset.checkIndex(index, n, "range");
                return index;
            }
        };
    }

    static List<Integer> all(Dataset<Integer> d) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) out.add(d.get(i));
        return out;
    }

    @Test
    void subsetReadsTheGivenIndicesInOrder() {
        Subset<Integer> s = new Subset<>(range(10), new int[] {7, 2, 2, 9});
        assertThat(s.size()).isEqualTo(4);
        assertThat(all(s)).containsExactly(7, 2, 2, 9);
        assertThatThrownBy(() -> s.get(4)).hasMessageContaining("index 4 out of range [0, 4)");
        assertThatThrownBy(() -> new Subset<>(range(3), new int[] {0, 3}))
                .hasMessageContaining("indices[1] = 3 out of range [0, 3)");
    }

    @Test
    void randomSplitBySizesIsADeterministicPartition() {
        List<Subset<Integer>> a = Datasets.randomSplit(range(100), new int[] {70, 20, 10}, 42);
        List<Subset<Integer>> b = Datasets.randomSplit(range(100), new int[] {70, 20, 10}, 42);
        assertThat(a).extracting(Subset::size).containsExactly(70, 20, 10);
        for (int k = 0; k < 3; k++) assertThat(all(a.get(k))).isEqualTo(all(b.get(k)));
        List<Integer> union = new ArrayList<>();
        a.forEach(s -> union.addAll(all(s)));
        assertThat(union).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 100).boxed().toList());
        // shuffled, not the identity split
        assertThat(all(a.get(0))).isNotEqualTo(IntStream.range(0, 70).boxed().toList());
        List<Subset<Integer>> c = Datasets.randomSplit(range(100), new int[] {70, 20, 10}, 43);
        assertThat(all(c.get(0))).isNotEqualTo(all(a.get(0)));
    }

    @Test
    void randomSplitByFractionsGivesTheRemainderToTheFirstSplits() {
        // floor(10 * 0.33) = 3, 3, floor(3.4) = 3 -> 9; the one left over goes to the first split (PyTorch rule)
        List<Subset<Integer>> s = Datasets.randomSplit(range(10), new double[] {0.33, 0.33, 0.34}, 0);
        assertThat(s).extracting(Subset::size).containsExactly(4, 3, 3);
        List<Subset<Integer>> t = Datasets.randomSplit(range(60000), new double[] {0.9, 0.1}, 0);
        assertThat(t).extracting(Subset::size).containsExactly(54000, 6000);
    }

    @Test
    void randomSplitRejectsBadSizes() {
        assertThatThrownBy(() -> Datasets.randomSplit(range(10), new int[] {5, 4}, 0))
                .hasMessageContaining("sizes [5, 4] sum to 9 but the dataset has 10 samples");
        assertThatThrownBy(() -> Datasets.randomSplit(range(10), new double[] {0.5, 0.6}, 0))
                .hasMessageContaining("sum to 1.1");
    }

    @Test
    void mapAppliesTheTransformWithAPerSampleEpochGenerator() {
        // The transform records the first number of its generator; it must be SampleRng.of(seed, epoch, index).
        Dataset<Long> mapped = range(5).map((Integer x, SampleRng rng) -> rng.nextLong(), 9);
        assertThat(mapped.get(3, 2)).isEqualTo(SampleRng.of(9, 2, 3).nextLong());
        assertThat(mapped.get(3)).isEqualTo(SampleRng.of(9, 0, 3).nextLong());
        // a subset of a mapped dataset keeps the underlying index's generator
        Subset<Long> sub = new Subset<>(mapped, new int[] {4, 3});
        assertThat(sub.get(1, 2)).isEqualTo(mapped.get(3, 2));
    }

    @Test
    void composeAppliesLeftToRight() {
        Transform<String, String> a = (s, rng) -> s + "a";
        Transform<String, String> b = (s, rng) -> s + "b";
        assertThat(Transform.compose(a, b, a).apply("x", new SampleRng(0))).isEqualTo("xaba");
        assertThat(a.andThen((s, rng) -> s.length()).apply("xyz", new SampleRng(0))).isEqualTo(4);
    }
}
