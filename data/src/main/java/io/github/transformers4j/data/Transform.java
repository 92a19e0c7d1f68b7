package io.github.transformers4j.data;

import java.util.List;

/**
 * A per-sample transform, like a torchvision transform. Random transforms draw only from the given
 * {@code rng}, which the pipeline derives from {@code (seed, epoch, index)}; deterministic ones ignore it.
 * Transforms never modify their input.
 */
@FunctionalInterface
public interface Transform<I, O> {
    O apply(I input, SampleRng rng);

    /** This transform, then {@code next}, drawing from the same generator in that order. */
    default <R> Transform<I, R> andThen(Transform<? super O, ? extends R> next) {
        Transform<I, O> first = this;
        return (input, rng) -> next.apply(first.apply(input, rng), rng);
    }

    static <T> Transform<T, T> identity() {
        return (input, rng) -> input;
    }

    /** Transforms applied left to right, like torchvision's {@code Compose}. */
    @SafeVarargs
    static <T> Compose<T> compose(Transform<T, T>... transforms) {
        return new Compose<>(List.of(transforms));
    }
}
