package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;

/** Elementwise {@code max(x, 0)}. */
public class ReLU extends Layer {
    @Override
    public Tensor forward(Tensor input) {
        return input.relu();
    }
}
