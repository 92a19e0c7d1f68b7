package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * Stochastic depth on a residual branch, timm's {@code DropPath}: while training each sample is dropped with
 * probability p and the kept ones scaled by 1 / (1 - p) ({@link F#dropPath}); identity in eval mode.
 */
public class DropPath extends Layer {
    public final double p;
    private final Random4j rng;

    public DropPath(double p) {
        this(p, null);
    }

    /** rng null = {@link Random4j#global()} at each call. */
    public DropPath(double p, Random4j rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("DropPath: probability must be in [0, 1], got " + p);
        this.p = p;
        this.rng = rng;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.dropPath(input, p, isTraining(), rng == null ? Random4j.global() : rng);
    }
}
