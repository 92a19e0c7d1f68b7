package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;

/** Elementwise {@code tanh(x)}. */
public class Tanh extends Layer {
    @Override
    public Tensor forward(Tensor input) {
        return input.tanh();
    }
}
