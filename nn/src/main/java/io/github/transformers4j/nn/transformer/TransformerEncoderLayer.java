package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.attention.MultiheadAttention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * torch.nn.TransformerEncoderLayer: self-attention then a feed-forward block, each with a residual connection and a
 * LayerNorm, after (post-norm, "Attention Is All You Need") or before (pre-norm) the block. State-dict keys as PyTorch:
 * {@code self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*}.
 *
 * <p>Shapes: (B, L, d_model) when batchFirst, else (L, B, d_model), or unbatched (L, d_model). Masks as PyTorch's:
 * {@code *Mask} BOOL with {@code true} = NOT allowed to attend, or float, added to the scores, (L, S) or
 * (B * nhead, L, S); {@code *KeyPaddingMask} BOOL (B, S), {@code true} = padding; {@code *IsCausal} adds the causal mask.
 * Positional overloads follow PyTorch's argument order; {@link TransformerMasks} names them.
 *
 * <p>Beyond PyTorch's layer: {@link #dropPath(double)} adds stochastic depth to both residual branches (timm's ViT
 * blocks); 0, the default, is PyTorch's layer.
 */
public class TransformerEncoderLayer extends Module implements EncoderForward {
    public final TransformerLayerConfig config;
    public final MultiheadAttention selfAttn;
    public final Linear linear1, linear2;
    public final Dropout dropout, dropout1, dropout2;
    public final LayerNorm norm1, norm2;
    private final Random4j rng;
    private double dropPath;

    /** PyTorch's {@code nn.TransformerEncoderLayer(d_model, nhead)} with its defaults ({@link TransformerLayerConfig#of}). */
    public TransformerEncoderLayer(int dModel, int nhead) {
        this(TransformerLayerConfig.of(dModel, nhead));
    }

    public TransformerEncoderLayer(TransformerLayerConfig config) {
        this(config, Random4j.global());
    }

    /** rng initialises the weights and drives dropout. */
    public TransformerEncoderLayer(TransformerLayerConfig c, Random4j rng) {
        this.config = c;
        this.rng = rng;
        selfAttn = register("self_attn", new MultiheadAttention(c.dModel(), c.nhead(), c.dropout(), c.bias(), c.batchFirst(), c.dModel(), c.dModel(), rng))
                .dropoutRng(rng);
        linear1 = register("linear1", new Linear(c.dModel(), c.dimFeedforward(), c.bias(), rng));
        dropout = register("dropout", new Dropout(c.dropout(), rng));
        linear2 = register("linear2", new Linear(c.dimFeedforward(), c.dModel(), c.bias(), rng));
        norm1 = register("norm1", new LayerNorm(new int[] {c.dModel()}, c.layerNormEps(), true, c.bias()));
        norm2 = register("norm2", new LayerNorm(new int[] {c.dModel()}, c.layerNormEps(), true, c.bias()));
        dropout1 = register("dropout1", new Dropout(c.dropout(), rng));
        dropout2 = register("dropout2", new Dropout(c.dropout(), rng));
    }

    /**
     * Stochastic depth with probability p on both residual branches while training ({@link F#dropPath}: a sample's
     * branch is dropped whole, the kept ones scaled by 1 / (1 - p)); drawn from the layer's generator. Returns this.
     */
    public TransformerEncoderLayer dropPath(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("TransformerEncoderLayer: drop path must be in [0, 1], got " + p);
        dropPath = p;
        return this;
    }

    /** The stochastic depth probability of the residual branches (0: none). */
    public double dropPath() {
        return dropPath;
    }

    @Override
    public Tensor forward(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask, boolean isCausal) {
        Tensor x = src;
        if (config.normFirst()) {
            x = x.add(branch(saBlock(norm1.forward(x), srcMask, srcKeyPaddingMask, isCausal)));
            x = x.add(branch(ffBlock(norm2.forward(x))));
        } else {
            x = norm1.forward(x.add(branch(saBlock(x, srcMask, srcKeyPaddingMask, isCausal))));
            x = norm2.forward(x.add(branch(ffBlock(x))));
        }
        return x;
    }

    /** A residual branch's output before it is added: dropped per sample with probability {@link #dropPath()}. */
    protected Tensor branch(Tensor y) {
        return F.dropPath(y, dropPath, isTraining(), rng);
    }

    private Tensor saBlock(Tensor x, Tensor mask, Tensor keyPaddingMask, boolean isCausal) {
        return dropout1.forward(selfAttn.forward(x, x, x, keyPaddingMask, false, mask, true, isCausal).output());
    }

    private Tensor ffBlock(Tensor x) {
        return dropout2.forward(linear2.forward(dropout.forward(linear1.forward(x, config.activation()))));
    }
}
