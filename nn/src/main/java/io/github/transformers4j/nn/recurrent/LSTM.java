package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * Multi-layer LSTM (torch.nn.LSTM), gates i, f, g, o as in {@link LSTMCell}; see {@link RNNBase} for shapes and
 * names. (PyTorch's {@code proj_size} is not supported.)
 */
public final class LSTM extends RNNBase {
    /** PyTorch's {@code nn.LSTM(input_size, hidden_size)}: one layer, biases, sequence-first, one direction. */
    public LSTM(int inputSize, int hiddenSize) {
        this(Options.of(inputSize, hiddenSize));
    }

    /** PyTorch's {@code nn.LSTM(input_size, hidden_size, num_layers)}; other options through {@link Options}. */
    public LSTM(int inputSize, int hiddenSize, int numLayers) {
        this(Options.of(inputSize, hiddenSize).numLayers(numLayers));
    }

    public LSTM(Options options) {
        this(options, Random4j.global());
    }

    public LSTM(Options options, Random4j rng) {
        super(options, 4, rng);
    }

    @Override
    LSTMCell.State cellStep(Tensor gi, LSTMCell.State state, Tensor wHh, Tensor bHh) {
        return LSTMCell.step(gi, state, wHh, bHh);
    }

    @Override
    boolean hasCellState() {
        return true;
    }
}
