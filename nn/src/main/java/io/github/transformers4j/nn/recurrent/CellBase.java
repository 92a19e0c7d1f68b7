package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Parameters and shape checks shared by {@link RNNCell}, {@link GRUCell} and {@link LSTMCell}: {@code weight_ih
 * (G*H, in)}, {@code weight_hh (G*H, H)}, {@code bias_ih (G*H)}, {@code bias_hh (G*H)} with G gates, all initialized
 * uniform(-1/sqrt(H), 1/sqrt(H)) as in PyTorch.
 */
public abstract class CellBase extends Module {
    protected final int inputSize;
    protected final int hiddenSize;
    protected final Parameter weightIh, weightHh, biasIh, biasHh;

    CellBase(int inputSize, int hiddenSize, boolean bias, int gates, Random4j rng) {
        if (inputSize <= 0 || hiddenSize <= 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": inputSize and hiddenSize must be positive, got "
                    + inputSize + " and " + hiddenSize);
        }
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        double k = 1 / Math.sqrt(hiddenSize);
        weightIh = param("weight_ih", uniform(rng, k, gates * hiddenSize, inputSize));
        weightHh = param("weight_hh", uniform(rng, k, gates * hiddenSize, hiddenSize));
        biasIh = bias ? param("bias_ih", uniform(rng, k, gates * hiddenSize)) : null;
        biasHh = bias ? param("bias_hh", uniform(rng, k, gates * hiddenSize)) : null;
    }

    public int inputSize() {
        return inputSize;
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    /** uniform(-k, k) of the given shape (PyTorch's init for every recurrent weight and bias). */
    static Tensor uniform(Random4j rng, double k, int... shape) {
        return Tensor.rand(rng, shape).mul(2 * k).sub(k);
    }

    /** x W^T + b (b may be null); x (..., in), W (out, in). */
    static Tensor linear(Tensor x, Tensor w, Tensor b) {
        Tensor y = x.matmul(w.t());
        return b == null ? y : y.add(b);
    }

    static Tensor data(Parameter p) {
        return p == null ? null : p.data();
    }

    /** The input projection x W_ih^T + b_ih. */
    Tensor projectInput(Tensor x) {
        return linear(x, weightIh.data(), data(biasIh));
    }

    /** x (B, in) or unbatched (in); returns it as (B, in). */
    Tensor checkInput(Tensor x) {
        if ((x.dim() != 1 && x.dim() != 2) || x.size(-1) != inputSize) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": expected input (B, " + inputSize + ") or ("
                    + inputSize + "), got " + Arrays.toString(x.shape()));
        }
        return x.dim() == 1 ? x.unsqueeze(0) : x;
    }

    /** A state (B, H) (unbatched: (H)) given by the caller, or zeros. */
    Tensor checkState(String name, Tensor s, Tensor x2, boolean unbatched) {
        int batch = x2.size(0);
        if (s == null) return Tensor.full(0, x2.dtype(), x2.device(), batch, hiddenSize);
        int[] expected = unbatched ? new int[] {hiddenSize} : new int[] {batch, hiddenSize};
        if (!Arrays.equals(s.shape(), expected)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": " + name + " should have shape "
                    + Arrays.toString(expected) + " for input " + Arrays.toString(unbatched ? new int[] {inputSize} : x2.shape())
                    + ", got " + Arrays.toString(s.shape()));
        }
        return unbatched ? s.unsqueeze(0) : s;
    }
}
