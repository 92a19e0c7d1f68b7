package io.github.transformers4j.data;

import java.util.Arrays;

/** The samples of {@code dataset} at {@code indices}, in that order (torch.utils.data.Subset). */
public record Subset<T>(Dataset<T> dataset, int[] indices) implements Dataset<T> {
    public Subset {
        int n = dataset.size();
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= n)
                throw new IndexOutOfBoundsException(
                        "Subset: indices[" + i + "] = " + indices[i] + " out of range [0, " + n + ")");
        }
        indices = indices.clone();
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public T get(int index) {
        Dataset.checkIndex(index, indices.length, "Subset");
        return dataset.get(indices[index]);
    }

    @Override
    public T get(int index, int epoch) {
        Dataset.checkIndex(index, indices.length, "Subset");
        return dataset.get(indices[index], epoch);
    }

    @Override
    public int[] indices() {
        return indices.clone();
    }

    @Override
    public String toString() {
        return "Subset[" + indices.length + " of " + dataset.size() + " samples]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Subset<?> s && s.dataset.equals(dataset) && Arrays.equals(s.indices, indices);
    }

    @Override
    public int hashCode() {
        return 31 * dataset.hashCode() + Arrays.hashCode(indices);
    }
}
