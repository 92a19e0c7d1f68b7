package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;

/** Returns its input (a placeholder where a layer is optional, e.g. no final norm). */
public class Identity extends Layer {
    @Override
    public Tensor forward(Tensor input) {
        return input;
    }
}
