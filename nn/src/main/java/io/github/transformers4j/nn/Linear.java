package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * y = x W^T + b, as torch.nn.Linear: input (*, in), output (*, out); {@code weight} (out, in), {@code bias} (out). Initialised like PyTorch: weight
 * kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), bias U(-1/sqrt(in), 1/sqrt(in)).
 */
public class Linear extends Layer {
    public final int inFeatures, outFeatures;
    public final Parameter weight, bias; // bias null when bias = false

    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true, Random4j.global());
    }

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        this(inFeatures, outFeatures, bias, Random4j.global());
    }

    public Linear(int inFeatures, int outFeatures, boolean bias, Random4j rng) {
        if (inFeatures < 0 || outFeatures < 0) {
            throw new IllegalArgumentException("Linear: feature counts must be >= 0, got in " + inFeatures + ", out " + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = param("weight", Tensor.zeros(outFeatures, inFeatures));
        this.bias = bias ? param("bias", Tensor.zeros(outFeatures)) : null;
        resetParameters(rng);
    }

    public final void resetParameters(Random4j rng) {
        Init.kaimingUniform_(weight.data(), Math.sqrt(5), rng);
        if (bias != null) Init.fanInUniform_(bias.data(), weight.shape(), rng);
    }

    /** (..., in) -> (..., out). */
    @Override
    public Tensor forward(Tensor input) {
        return F.linear(input, weight.data(), bias == null ? null : bias.data());
    }

    /** activation(forward(input)), fused where the backend can ({@link F#linear(Tensor, Tensor, Tensor, Activation)}). */
    public Tensor forward(Tensor input, Activation activation) {
        return F.linear(input, weight.data(), bias == null ? null : bias.data(), activation);
    }
}
