package io.github.transformers4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Dataset utilities (torch.utils.data.random_split). */
public final class Datasets {
    private Datasets() {}

    /** A dataset over a list (kept as given). */
    public static <T> Dataset<T> of(List<T> items) {
        List<T> copy = List.copyOf(items);
        return new Dataset<>() {
            @Override
            public int size() {
                return copy.size();
            }

            @Override
            public T get(int index) {
                return copy.get(index);
            }
        };
    }

    /**
     * Splits {@code dataset} into non-overlapping subsets of the given sizes, which must add up to its size.
     * The same seed gives the same split.
     */
    public static <T> List<Subset<T>> randomSplit(Dataset<T> dataset, int[] sizes, long seed) {
        int n = dataset.size();
        long total = 0;
        for (int s : sizes) {
            if (s < 0) throw new IllegalArgumentException("randomSplit: negative size in " + Arrays.toString(sizes));
            total += s;
        }
        if (total != n)
            throw new IllegalArgumentException("randomSplit: sizes " + Arrays.toString(sizes) + " sum to " + total
                    + " but the dataset has " + n + " samples");
        int[] perm = new SampleRng(seed).permutation(n);
        List<Subset<T>> out = new ArrayList<>(sizes.length);
        int start = 0;
        for (int s : sizes) {
            out.add(new Subset<>(dataset, Arrays.copyOfRange(perm, start, start + s)));
            start += s;
        }
        return out;
    }

    /**
     * Splits by fractions that add up to 1, as PyTorch does: each split gets {@code floor(n * fraction)}
     * samples and the remainder goes one by one to the first splits.
     */
    public static <T> List<Subset<T>> randomSplit(Dataset<T> dataset, double[] fractions, long seed) {
        double sum = 0;
        for (double f : fractions) {
            if (!(f >= 0 && f <= 1))
                throw new IllegalArgumentException("randomSplit: fraction " + f + " not in [0, 1] in "
                        + Arrays.toString(fractions));
            sum += f;
        }
        if (Math.abs(sum - 1) > 1e-6)
            throw new IllegalArgumentException("randomSplit: fractions " + Arrays.toString(fractions)
                    + " sum to " + sum + ", expected 1");
        int n = dataset.size();
        int[] sizes = new int[fractions.length];
        int assigned = 0;
        for (int i = 0; i < fractions.length; i++) {
            sizes[i] = (int) Math.floor(n * fractions[i]);
            assigned += sizes[i];
        }
        for (int i = 0; assigned < n; i = (i + 1) % sizes.length, assigned++) sizes[i]++;
        return randomSplit(dataset, sizes, seed);
    }
}
