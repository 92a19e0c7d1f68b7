package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Tensor;

/**
 * torch.nn.LayerNorm over the trailing {@code normalizedShape}: (x - mean) / sqrt(var + eps) * weight + bias with the
 * biased variance; input (*, normalizedShape), output of the same shape; {@code weight} starts at ones, {@code bias}
 * at zeros.
 */
public class LayerNorm extends Layer {
    public final int[] normalizedShape;
    public final double eps;
    public final Parameter weight, bias; // null without elementwise affine (bias also null when bias = false)

    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5, true, true);
    }

    public LayerNorm(int normalizedShape, double eps) {
        this(new int[] {normalizedShape}, eps, true, true);
    }

    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine, boolean bias) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = elementwiseAffine ? param("weight", Tensor.ones(normalizedShape)) : null;
        this.bias = elementwiseAffine && bias ? param("bias", Tensor.zeros(normalizedShape)) : null;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.layerNorm(input, normalizedShape, weight == null ? null : weight.data(), bias == null ? null : bias.data(), eps);
    }
}
