package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;

/** A module with one input and one output, so that it can be chained in a {@link Sequential}. */
public abstract class Layer extends Module {
    public abstract Tensor forward(Tensor input);
}
