package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/** Inverted dropout while training (kept elements scaled by 1 / (1 - p)); identity in eval mode. */
public class Dropout extends Layer {
    public final double p;
    private final Random4j rng;

    public Dropout(double p) {
        this(p, null);
    }

    /** rng null = {@link Random4j#global()} at each call. */
    public Dropout(double p, Random4j rng) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("Dropout: probability must be in [0, 1], got " + p);
        this.p = p;
        this.rng = rng;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.dropout(input, p, isTraining(), rng);
    }
}
