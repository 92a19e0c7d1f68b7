package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;

/** Elementwise {@code 1 / (1 + exp(-x))}. */
public class Sigmoid extends Layer {
    @Override
    public Tensor forward(Tensor input) {
        return input.sigmoid();
    }
}
