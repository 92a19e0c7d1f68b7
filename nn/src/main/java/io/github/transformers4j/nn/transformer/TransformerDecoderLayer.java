package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.attention.MultiheadAttention;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * torch.nn.TransformerDecoderLayer: self-attention over the target, cross-attention to the encoder's memory, then a
 * feed-forward block; residuals and post- or pre-norm as the encoder layer. Keys: {@code self_attn.*, multihead_attn.*,
 * linear1.*, linear2.*, norm1.*, norm2.*, norm3.*}.
 *
 * <p>Shapes: (B, L, d_model) when batchFirst, else (L, B, d_model), or unbatched (L, d_model). Masks as PyTorch's:
 * {@code *Mask} BOOL with {@code true} = NOT allowed to attend, or float, added to the scores, (L, S) or
 * (B * nhead, L, S); {@code *KeyPaddingMask} BOOL (B, S), {@code true} = padding; {@code *IsCausal} adds the causal mask.
 * Positional overloads follow PyTorch's argument order; {@link TransformerMasks} names them.
 */
public class TransformerDecoderLayer extends Module implements DecoderForward {
    public final TransformerLayerConfig config;
    public final MultiheadAttention selfAttn, multiheadAttn;
    public final Linear linear1, linear2;
    public final Dropout dropout, dropout1, dropout2, dropout3;
    public final LayerNorm norm1, norm2, norm3;

    /** PyTorch's {@code nn.TransformerDecoderLayer(d_model, nhead)} with its defaults ({@link TransformerLayerConfig#of}). */
    public TransformerDecoderLayer(int dModel, int nhead) {
        this(TransformerLayerConfig.of(dModel, nhead));
    }

    public TransformerDecoderLayer(TransformerLayerConfig config) {
        this(config, Random4j.global());
    }

    public TransformerDecoderLayer(TransformerLayerConfig c, Random4j rng) {
        this.config = c;
        selfAttn = register("self_attn", new MultiheadAttention(c.dModel(), c.nhead(), c.dropout(), c.bias(), c.batchFirst(), c.dModel(), c.dModel(), rng))
                .dropoutRng(rng);
        multiheadAttn = register("multihead_attn", new MultiheadAttention(c.dModel(), c.nhead(), c.dropout(), c.bias(), c.batchFirst(), c.dModel(), c.dModel(), rng))
                .dropoutRng(rng);
        linear1 = register("linear1", new Linear(c.dModel(), c.dimFeedforward(), c.bias(), rng));
        dropout = register("dropout", new Dropout(c.dropout(), rng));
        linear2 = register("linear2", new Linear(c.dimFeedforward(), c.dModel(), c.bias(), rng));
        norm1 = register("norm1", new LayerNorm(new int[] {c.dModel()}, c.layerNormEps(), true, c.bias()));
        norm2 = register("norm2", new LayerNorm(new int[] {c.dModel()}, c.layerNormEps(), true, c.bias()));
        norm3 = register("norm3", new LayerNorm(new int[] {c.dModel()}, c.layerNormEps(), true, c.bias()));
        dropout1 = register("dropout1", new Dropout(c.dropout(), rng));
        dropout2 = register("dropout2", new Dropout(c.dropout(), rng));
        dropout3 = register("dropout3", new Dropout(c.dropout(), rng));
    }

    @Override
    public Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask,
            Tensor memoryKeyPaddingMask, boolean tgtIsCausal, boolean memoryIsCausal) {
        Tensor x = tgt;
        if (config.normFirst()) {
            x = x.add(saBlock(norm1.forward(x), tgtMask, tgtKeyPaddingMask, tgtIsCausal));
            x = x.add(mhaBlock(norm2.forward(x), memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal));
            x = x.add(ffBlock(norm3.forward(x)));
        } else {
            x = norm1.forward(x.add(saBlock(x, tgtMask, tgtKeyPaddingMask, tgtIsCausal)));
            x = norm2.forward(x.add(mhaBlock(x, memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal)));
            x = norm3.forward(x.add(ffBlock(x)));
        }
        return x;
    }

    /**
     * Incremental decoding (inference): {@code tgt} holds only the new positions (usually one), which attend to the
     * cached keys and values of all earlier positions and to themselves causally; their keys and values are appended
     * to {@code cache}. The encoder memory's keys and values are computed at the first call and kept in the cache.
     * Gives the same outputs at the new positions as {@link #forward} over the whole prefix with a causal mask.
     *
     * @param tgt the new positions, (B, L, d_model) if batchFirst else (L, B, d_model)
     * @param memory the encoder output (only read on the first call)
     * @param memoryKeyPaddingMask BOOL (B, S), true = padding; or null
     */
    public Tensor forwardCached(Tensor tgt, Tensor memory, Tensor memoryKeyPaddingMask, KVCache.Layer cache) {
        Tensor x = config.batchFirst() ? tgt : tgt.transpose(0, 1);
        if (cache.crossKey == null) {
            Tensor[] kv = multiheadAttn.keyValueProjections(config.batchFirst() ? memory : memory.transpose(0, 1));
            cache.setCross(kv[0], kv[1]);
        }
        if (config.normFirst()) {
            x = x.add(dropout1.forward(saCached(norm1.forward(x), cache)));
            x = x.add(dropout2.forward(multiheadAttn.attendHeads(multiheadAttn.queryProjection(norm2.forward(x)), cache.crossKey,
                    cache.crossValue, memoryKeyPaddingMask, null)));
            x = x.add(ffBlock(norm3.forward(x)));
        } else {
            x = norm1.forward(x.add(dropout1.forward(saCached(x, cache))));
            x = norm2.forward(x.add(dropout2.forward(multiheadAttn.attendHeads(multiheadAttn.queryProjection(x), cache.crossKey,
                    cache.crossValue, memoryKeyPaddingMask, null))));
            x = norm3.forward(x.add(ffBlock(x)));
        }
        return config.batchFirst() ? x : x.transpose(0, 1);
    }

    /** Causal self-attention of the new positions over the cache plus themselves. */
    private Tensor saCached(Tensor x, KVCache.Layer cache) {
        Tensor[] qkv = selfAttn.selfProjections(x);
        int past = cache.length(), l = x.size(1);
        cache.appendSelf(qkv[1], qkv[2]);
        Tensor mask = null; // new position i (absolute past + i) sees keys j <= past + i
        if (l > 1) {
            Tensor i = Tensor.arange(l).to(x.device()).view(l, 1).add(past), j = Tensor.arange(past + l).to(x.device()).view(1, past + l);
            mask = j.gt(i);
        }
        return selfAttn.attendHeads(qkv[0], cache.selfKey, cache.selfValue, null, mask);
    }

    private Tensor saBlock(Tensor x, Tensor mask, Tensor keyPaddingMask, boolean isCausal) {
        return dropout1.forward(selfAttn.forward(x, x, x, keyPaddingMask, false, mask, true, isCausal).output());
    }

    private Tensor mhaBlock(Tensor x, Tensor mem, Tensor mask, Tensor keyPaddingMask, boolean isCausal) {
        return dropout2.forward(multiheadAttn.forward(x, mem, mem, keyPaddingMask, false, mask, true, isCausal).output());
    }

    private Tensor ffBlock(Tensor x) {
        return dropout3.forward(linear2.forward(dropout.forward(linear1.forward(x, config.activation()))));
    }
}
