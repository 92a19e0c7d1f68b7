package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/** Multi-layer Elman RNN (torch.nn.RNN) with tanh or relu; see {@link RNNBase} for shapes and names. */
public final class RNN extends RNNBase {
    private final RNNCell.Nonlinearity nonlinearity;

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
