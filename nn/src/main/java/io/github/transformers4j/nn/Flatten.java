package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;

/** Flattens dims startDim..endDim into one (PyTorch defaults 1 and -1: keeps the batch dim). */
public class Flatten extends Layer {
    public final int startDim, endDim;

    public Flatten() {
        this(1, -1);
    }

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public Tensor forward(Tensor input) {
        return input.flatten(startDim, endDim);
    }
}
