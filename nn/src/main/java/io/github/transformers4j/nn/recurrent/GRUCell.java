package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * Gated recurrent unit cell, like torch.nn.GRUCell. Gates stacked r, z, n in the weights:
 * <pre>
 * r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 * z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 * h' = (1 - z) * n + z * h
 * </pre>
 */
public final class GRUCell extends CellBase {
    public GRUCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true, Random4j.global());
    }

    public GRUCell(int inputSize, int hiddenSize, boolean bias, Random4j rng) {
        super(inputSize, hiddenSize, bias, 3, rng);
    }

    public Tensor forward(Tensor input) {
        return forward(input, null);
    }

    /** input (B, in) or (in); hx (B, H) or (H), zeros when null. Returns h' (B, H) or (H). */
    public Tensor forward(Tensor input, Tensor hx) {
        boolean unbatched = input.dim() == 1;
        Tensor x = checkInput(input);
        Tensor h = step(projectInput(x), checkState("hx", hx, x, unbatched), weightHh.data(), data(biasHh));
        return unbatched ? h.squeeze(0) : h;
    }

    /** One step given the input projection gi = x W_ih^T + b_ih (B, 3H). */
    static Tensor step(Tensor gi, Tensor h, Tensor wHh, Tensor bHh) {
        int hs = h.size(-1);
        Tensor gh = linear(h, wHh, bHh); // (B, 3H)
        Tensor rz = gi.narrow(-1, 0, 2 * hs).add(gh.narrow(-1, 0, 2 * hs)).sigmoid();
        Tensor r = rz.narrow(-1, 0, hs), z = rz.narrow(-1, hs, hs);
        Tensor n = gi.narrow(-1, 2 * hs, hs).add(r.mul(gh.narrow(-1, 2 * hs, hs))).tanh();
        return n.add(z.mul(h.sub(n))); // (1 - z) * n + z * h
    }
}
