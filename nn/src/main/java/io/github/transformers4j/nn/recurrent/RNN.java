package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/** Multi-layer Elman RNN (torch.nn.RNN) with tanh or relu; see {@link RNNBase} for shapes and names. */
public final class RNN extends RNNBase {
    private final RNNCell.Nonlinearity nonlinearity;

    /** PyTorch's {@code nn.RNN(input_size, hidden_size)}: one tanh layer, biases, sequence-first, one direction. */
    public RNN(int inputSize, int hiddenSize) {
        this(Options.of(inputSize, hiddenSize));
    }

    /** PyTorch's {@code nn.RNN(input_size, hidden_size, num_layers)}; other options through {@link Options}. */
    public RNN(int inputSize, int hiddenSize, int numLayers) {
        this(Options.of(inputSize, hiddenSize).numLayers(numLayers));
    }

    public RNN(Options options) {
        this(options, RNNCell.Nonlinearity.TANH, Random4j.global());
    }

    public RNN(Options options, RNNCell.Nonlinearity nonlinearity, Random4j rng) {
        super(options, 1, rng);
        this.nonlinearity = nonlinearity;
    }

    /** h0 (layers * directions, B, H) or null for zeros. */
    public Output forward(Tensor input, Tensor h0) {
        return run(input, h0, null);
    }

    @Override
    LSTMCell.State cellStep(Tensor gi, LSTMCell.State state, Tensor wHh, Tensor bHh) {
        return new LSTMCell.State(RNNCell.step(gi, state.h(), wHh, bHh, nonlinearity), null);
    }

    @Override
    boolean hasCellState() {
        return false;
    }
}
