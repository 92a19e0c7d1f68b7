package io.github.transformers4j.data;

/** A dataset with a per-sample transform; see {@link Dataset#map(Transform, long)}. */
public record TransformedDataset<T, R>(Dataset<T> source, Transform<? super T, ? extends R> transform, long seed)
        implements Dataset<R> {
    @Override
    public int size() {
        return source.size();
    }

    @Override
    public R get(int index) {
        return get(index, 0);
    }

    @Override
    public R get(int index, int epoch) {
        return transform.apply(source.get(index, epoch), SampleRng.of(seed, epoch, index));
    }
}
