package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/** Elman cell, like torch.nn.RNNCell: {@code h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)}, act tanh or relu. */
public final class RNNCell extends CellBase {
    /** The cell's activation (PyTorch's {@code nonlinearity}). */
    public enum Nonlinearity { TANH, RELU }

    private final Nonlinearity nonlinearity;

    public RNNCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true, Nonlinearity.TANH, Random4j.global());
    }

    public RNNCell(int inputSize, int hiddenSize, boolean bias, Nonlinearity nonlinearity, Random4j rng) {
        super(inputSize, hiddenSize, bias, 1, rng);
        this.nonlinearity = nonlinearity;
    }

    public Tensor forward(Tensor input) {
        return forward(input, null);
    }

    /** input (B, in) or (in); hx (B, H) or (H), zeros when null. Returns h' (B, H) or (H). */
    public Tensor forward(Tensor input, Tensor hx) {
        boolean unbatched = input.dim() == 1;
        Tensor x = checkInput(input);
        Tensor h = step(projectInput(x), checkState("hx", hx, x, unbatched), weightHh.data(), data(biasHh), nonlinearity);
        return unbatched ? h.squeeze(0) : h;
    }

    /** One step given the input projection gi = x W_ih^T + b_ih (B, H). */
    static Tensor step(Tensor gi, Tensor h, Tensor wHh, Tensor bHh, Nonlinearity nonlinearity) {
        Tensor pre = gi.add(linear(h, wHh, bHh));
        return nonlinearity == Nonlinearity.TANH ? pre.tanh() : pre.relu();
    }
}
