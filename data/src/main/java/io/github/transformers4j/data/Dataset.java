package io.github.transformers4j.data;

/**
 * A map-style dataset: {@link #size()} samples, read by index. Implementations must allow concurrent
 * {@code get} calls from loader threads.
 */
public interface Dataset<T> {
    int size();

    T get(int index);

    /**
     * The sample as seen in {@code epoch}. Only random transforms look at the epoch (see
     * {@link #map(Transform, long)}); plain datasets return {@link #get(int)}.
     */
    default T get(int index, int epoch) {
        return get(index);
    }

    /**
     * This dataset with {@code transform} applied to every sample. Sample {@code i} of epoch {@code e} is
     * transformed with {@code SampleRng.of(seed, e, i)}, where {@code i} is the index in this dataset.
     */
    default <R> Dataset<R> map(Transform<? super T, ? extends R> transform, long seed) {
        return new TransformedDataset<>(this, transform, seed);
    }

    /** This dataset with a deterministic transform (one that never draws a random number). */
    default <R> Dataset<R> map(Transform<? super T, ? extends R> transform) {
        return map(transform, 0L);
    }

    static void checkIndex(int index, int size, Object dataset) {
        if (index < 0 || index >= size)
            throw new IndexOutOfBoundsException(dataset + ": index " + index + " out of range [0, " + size + ")");
    }
}
