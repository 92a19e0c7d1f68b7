package io.github.transformers4j.data;

import java.util.List;

/** Transforms applied left to right, drawing from one generator in that order (torchvision Compose). */
public record Compose<T>(List<Transform<T, T>> transforms) implements Transform<T, T> {
    public Compose {
        transforms = List.copyOf(transforms);
    }

    @Override
    public T apply(T input, SampleRng rng) {
        T x = input;
        for (Transform<T, T> t : transforms) x = t.apply(x, rng);
        return x;
    }
}
