package io.github.transformers4j.models.vit;

import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.GELU;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Sequential;
import io.github.transformers4j.nn.attention.EinsumMultiheadAttention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * The pre-norm encoder block of the "ViT from scratch with einsum" course variant ({@code vit-einsum-p16}), attention
 * computed from ONE packed weight tensor by einsum ({@link EinsumMultiheadAttention}: {@code qkv_weight} (3, d, H, E)):
 * <pre>
 * x = x + attn(norm1(x)); x = x + mlp(norm2(x))      mlp = Linear, GELU, Dropout, Linear, Dropout
 * </pre>
 * ({@link #dropPath(double)}: each branch with stochastic depth, as timm's blocks.)
 * Keys: {@code norm1.*}, {@code attn.qkv_weight|qkv_bias|out_weight|out_bias}, {@code norm2.*}, {@code mlp.0.*},
 * {@code mlp.3.*}.
 */
public class EinsumBlock extends Module {
    public final LayerNorm norm1, norm2;
    public final EinsumMultiheadAttention attn;
    public final Sequential mlp;
    private final Random4j rng;
    private double dropPath;

    public EinsumBlock(int dim, int heads, int mlpDim, double dropout, Random4j rng) {
        this.rng = rng;
        norm1 = register("norm1", new LayerNorm(dim));
        attn = register("attn", new EinsumMultiheadAttention(dim, heads, dropout, true, true, rng)).dropoutRng(rng);
        norm2 = register("norm2", new LayerNorm(dim));
        mlp = register("mlp", new Sequential(new Linear(dim, mlpDim, true, rng), new GELU(), new Dropout(dropout, rng),
                new Linear(mlpDim, dim, true, rng), new Dropout(dropout, rng)));
    }

    /** Stochastic depth with probability p on both residual branches while training ({@link F#dropPath}). Returns this. */
    public EinsumBlock dropPath(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("EinsumBlock: drop path must be in [0, 1], got " + p);
        dropPath = p;
        return this;
    }

    public double dropPath() {
        return dropPath;
    }

    /** (B, L, d) -> (B, L, d). */
    public Tensor forward(Tensor x) {
        Tensor h = norm1.forward(x);
        x = x.add(F.dropPath(attn.forward(h, h, h, null, false, null, true, false).output(), dropPath, isTraining(), rng));
        return x.add(F.dropPath(mlp.forward(norm2.forward(x)), dropPath, isTraining(), rng));
    }
}
