package io.github.transformers4j.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    static <B> List<B> collect(Iterable<B> it) {
        List<B> out = new ArrayList<>();
        it.forEach(out::add);
        return out;
    }

    static List<List<Integer>> epoch(DataLoader<Integer, List<Integer>> loader, int e) {
        return collect(loader.epoch(e));
    }

    static DataLoader<Integer, List<Integer>> loader(int n, int batch, boolean shuffle, boolean dropLast, int workers) {
        return DataLoader.builder(DatasetsTest.range(n)).batchSize(batch).shuffle(shuffle).seed(5)
                .dropLast(dropLast).numWorkers(workers).build();
    }

    @Test
    void unshuffledBatchesAreConsecutive() {
        try (var l = loader(7, 3, false, false, 0)) {
            assertThat(l.numBatches()).isEqualTo(3);
            assertThat(epoch(l, 0)).containsExactly(List.of(0, 1, 2), List.of(3, 4, 5), List.of(6));
        }
    }

    @Test
    void dropLastDropsTheShortBatch() {
        try (var l = loader(7, 3, false, true, 0)) {
            assertThat(l.numBatches()).isEqualTo(2);
            assertThat(epoch(l, 0)).containsExactly(List.of(0, 1, 2), List.of(3, 4, 5));
        }
        try (var l = loader(10, 4, true, true, 2)) {
            assertThat(epoch(l, 0)).extracting(List::size).containsExactly(4, 4);
        }
        try (var l = loader(10, 4, true, false, 2)) {
            assertThat(epoch(l, 0)).extracting(List::size).containsExactly(4, 4, 2);
        }
    }

    @Test
    void shuffleIsTheSameForTheSameSeedAndEpochAndDiffersAcrossEpochs() {
        try (var a = loader(50, 8, true, false, 0); var b = loader(50, 8, true, false, 0)) {
            List<List<Integer>> e0 = epoch(a, 0);
            assertThat(epoch(b, 0)).isEqualTo(e0);
            assertThat(epoch(a, 0)).isEqualTo(e0); // re-iterating an epoch repeats it
            assertThat(epoch(a, 1)).isNotEqualTo(e0);
            List<Integer> flat = e0.stream().flatMap(List::stream).toList();
            assertThat(flat).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 50).boxed().toList());
            assertThat(flat).isNotEqualTo(IntStream.range(0, 50).boxed().toList());
            // the order is the documented permutation
            int[] perm = SampleRng.forEpoch(5, 0).permutation(50);
            assertThat(flat).containsExactly(Arrays.stream(perm).boxed().toArray(Integer[]::new));
        }
        try (var other = DataLoader.builder(DatasetsTest.range(50)).batchSize(8).shuffle(true).seed(6).build();
             var a = loader(50, 8, true, false, 0)) {
            assertThat(collect(other.epoch(0))).isNotEqualTo(epoch(a, 0));
        }
    }

    @Test
    void groupByLengthMakesBatchesOfSimilarLengthAndStillVisitsEverySampleOnce() {
        int n = 1003, batch = 4;
        // length of sample i: a scrambled value in 0..996
        java.util.function.IntUnaryOperator len = i -> (i * 7919) % 997;
        try (var grouped = DataLoader.builder(DatasetsTest.range(n)).batchSize(batch).shuffle(true).seed(3).groupByLength(len).build();
             var again = DataLoader.builder(DatasetsTest.range(n)).batchSize(batch).shuffle(true).seed(3).groupByLength(len).numWorkers(2).build();
             var plain = DataLoader.builder(DatasetsTest.range(n)).batchSize(batch).shuffle(true).seed(3).build()) {
            List<List<Integer>> e0 = collect(grouped.epoch(0));
            assertThat(e0.stream().flatMap(List::stream).toList()).containsExactlyInAnyOrderElementsOf(IntStream.range(0, n).boxed().toList());
            assertThat(e0).extracting(List::size).last().isEqualTo(n % batch);
            assertThat(collect(again.epoch(0))).isEqualTo(e0);
            assertThat(collect(grouped.epoch(1))).isNotEqualTo(e0);
            // padding waste = sum over batches of (batch max - each length); grouping must cut it far below random batching
            assertThat(padding(e0, len)).isLessThan(padding(collect(plain.epoch(0)), len) / 10);
            // batches are not in length order: the full batches are shuffled
            List<Integer> firstLengths = e0.subList(0, 10).stream().map(b -> len.applyAsInt(b.get(0))).toList();
            assertThat(firstLengths).isNotEqualTo(firstLengths.stream().sorted(java.util.Comparator.reverseOrder()).toList());
        }
        try (var unshuffled = DataLoader.builder(DatasetsTest.range(10)).batchSize(3).groupByLength(i -> i).build()) {
            assertThat(collect(unshuffled.epoch(0))).containsExactly(List.of(9, 8, 7), List.of(6, 5, 4), List.of(3, 2, 1), List.of(0));
        }
    }

    private static long padding(List<List<Integer>> batches, java.util.function.IntUnaryOperator len) {
        long waste = 0;
        for (List<Integer> b : batches) {
            int max = b.stream().mapToInt(len::applyAsInt).max().orElse(0);
            for (int i : b) waste += max - len.applyAsInt(i);
        }
        return waste;
    }

    @Test
    void workerCountDoesNotChangeBatchesEvenWithRandomTransforms() {
        // Each sample becomes (index, a random number from its own generator): both must match across thread counts.
        Dataset<long[]> data = DatasetsTest.range(203).map((Integer i, SampleRng rng) -> new long[] {i, rng.nextLong()}, 77);
        List<List<List<long[]>>> reference = new ArrayList<>(); // per epoch, with 0 workers
        for (int workers : new int[] {0, 1, 4}) {
            try (var l = DataLoader.builder(data).batchSize(16).shuffle(true).seed(3).numWorkers(workers).build()) {
                for (int e = 0; e < 2; e++) {
                    List<List<long[]>> got = collect(l.epoch(e));
                    if (workers == 0) {
                        reference.add(got);
                        continue;
                    }
                    List<List<long[]>> want = reference.get(e);
                    assertThat(got).hasSameSizeAs(want);
                    for (int b = 0; b < got.size(); b++) {
                        assertThat(got.get(b)).hasSameSizeAs(want.get(b));
                        for (int i = 0; i < got.get(b).size(); i++)
                            assertThat(got.get(b).get(i)).as("workers %d epoch %d batch %d item %d", workers, e, b, i)
                                    .containsExactly(want.get(b).get(i));
                    }
                }
            }
        }
        assertThat(reference.get(0).getFirst().getFirst()).isNotEqualTo(reference.get(1).getFirst().getFirst());
    }

    @Test
    void randomTransformsChangeWithTheEpoch() {
        Dataset<Long> data = DatasetsTest.range(4).map((Integer i, SampleRng rng) -> rng.nextLong(), 1);
        try (var l = DataLoader.builder(data).batchSize(4).build()) {
            assertThat(collect(l.epoch(0))).isNotEqualTo(collect(l.epoch(1)));
            assertThat(collect(l.epoch(1))).isEqualTo(collect(l.epoch(1)));
        }
    }

    @Test
    void collateSeesTheSamplesOfEachBatch() {
        try (var l = DataLoader.builder(DatasetsTest.range(5), (List<Integer> xs) -> xs.stream().mapToInt(x -> x).sum())
                .batchSize(2).numWorkers(2).build()) {
            assertThat(collect(l.epoch(0))).containsExactly(1, 5, 4);
        }
    }

    @Test
    void workersStopOnCloseAndEpochsDoNotAddThreads() throws Exception {
        long before = workerThreads();
        var l = loader(1000, 10, true, false, 4);
        for (int e = 0; e < 5; e++) epoch(l, e);
        // an epoch abandoned after one batch
        l.epoch(9).iterator().next();
        assertThat(workerThreads()).isLessThanOrEqualTo(before + 4);
        l.close();
        assertThat(workerThreads()).isEqualTo(before);
        assertThatThrownBy(() -> epoch(l, 0)).hasMessageContaining("used after close()");
    }

    private static long workerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("t4j-data-") && t.isAlive()).count();
    }

    @Test
    void aFailingSampleFailsTheEpochWithItsMessage() {
        Dataset<Integer> bad = DatasetsTest.range(10).map((Integer i, SampleRng rng) -> {
            if (i == 7) throw new IllegalStateException("sample 7 is broken");
            return i;
        });
        for (int workers : new int[] {0, 2}) {
            try (var l = DataLoader.builder(bad).batchSize(3).numWorkers(workers).build()) {
                var it = l.epoch(0).iterator();
                it.next();
                it.next();
                assertThatThrownBy(it::next).hasMessageContaining("sample 7 is broken");
            }
        }
    }

    @Test
    void rejectsBadSettings() {
        assertThatThrownBy(() -> DataLoader.builder(DatasetsTest.range(3)).batchSize(0))
                .hasMessageContaining("batchSize must be positive, got 0");
        assertThatThrownBy(() -> DataLoader.builder(DatasetsTest.range(3)).numWorkers(-1))
                .hasMessageContaining("numWorkers must be >= 0, got -1");
    }
}
