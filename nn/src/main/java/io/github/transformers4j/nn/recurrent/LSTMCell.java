package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * Long short-term memory cell, like torch.nn.LSTMCell. Gates stacked i, f, g, o in the weights:
 * <pre>
 * i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*),  g = tanh(W_ig x + b_ig + W_hg h + b_hg)
 * c' = f * c + i * g
 * h' = o * tanh(c')
 * </pre>
 */
public final class LSTMCell extends CellBase {
    /** Hidden and cell state, each (B, H) (or (H) unbatched). */
    public record State(Tensor h, Tensor c) {}

    public LSTMCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true, Random4j.global());
    }

    public LSTMCell(int inputSize, int hiddenSize, boolean bias, Random4j rng) {
        super(inputSize, hiddenSize, bias, 4, rng);
    }

    public State forward(Tensor input) {
        return forward(input, null, null);
    }

    /** input (B, in) or (in); hx, cx (B, H) or (H), zeros when null. */
    public State forward(Tensor input, Tensor hx, Tensor cx) {
        boolean unbatched = input.dim() == 1;
        Tensor x = checkInput(input);
        State s = step(projectInput(x), new State(checkState("hx", hx, x, unbatched), checkState("cx", cx, x, unbatched)),
                weightHh.data(), data(biasHh));
        return unbatched ? new State(s.h().squeeze(0), s.c().squeeze(0)) : s;
    }

    /** One step given the input projection gi = x W_ih^T + b_ih (B, 4H). */
    static State step(Tensor gi, State s, Tensor wHh, Tensor bHh) {
        int hs = s.h().size(-1);
        Tensor gates = gi.add(linear(s.h(), wHh, bHh)); // (B, 4H): i, f, g, o
        Tensor sigIf = gates.narrow(-1, 0, 2 * hs).sigmoid();
        Tensor i = sigIf.narrow(-1, 0, hs), f = sigIf.narrow(-1, hs, hs);
        Tensor g = gates.narrow(-1, 2 * hs, hs).tanh();
        Tensor o = gates.narrow(-1, 3 * hs, hs).sigmoid();
        Tensor c = f.mul(s.c()).add(i.mul(g));
        return new State(o.mul(c.tanh()), c);
    }
}
