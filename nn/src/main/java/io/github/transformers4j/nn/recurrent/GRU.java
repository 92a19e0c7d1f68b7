package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/** Multi-layer GRU (torch.nn.GRU), gates r, z, n as in {@link GRUCell}; see {@link RNNBase} for shapes and names. */
public final class GRU extends RNNBase {
    /** PyTorch's {@code nn.GRU(input_size, hidden_size)}: one layer, biases, sequence-first, one direction. */
    public GRU(int inputSize, int hiddenSize) {
        this(Options.of(inputSize, hiddenSize));
    }

    /** PyTorch's {@code nn.GRU(input_size, hidden_size, num_layers)}; other options through {@link Options}. */
    public GRU(int inputSize, int hiddenSize, int numLayers) {
        this(Options.of(inputSize, hiddenSize).numLayers(numLayers));
    }

    public GRU(Options options) {
        this(options, Random4j.global());
    }

    public GRU(Options options, Random4j rng) {
        super(options, 3, rng);
    }

    /** h0 (layers * directions, B, H) or null for zeros. */
    public Output forward(Tensor input, Tensor h0) {
        return run(input, h0, null);
    }

    @Override
    LSTMCell.State cellStep(Tensor gi, LSTMCell.State state, Tensor wHh, Tensor bHh) {
        return new LSTMCell.State(GRUCell.step(gi, state.h(), wHh, bHh), null);
    }

    @Override
    boolean hasCellState() {
        return false;
    }
}
