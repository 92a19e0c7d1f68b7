package io.github.transformers4j.nn.attention;

import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.tensor.Tensor;

/**
 * The call forms of a multi-head attention module, as PyTorch's positional ones and the named form ({@link MhaOptions}),
 * all from the full {@link #forward(Tensor, Tensor, Tensor, Tensor, boolean, Tensor, boolean, boolean)}.
 */
public interface AttentionForward {
    /**
     * @param query (B, L, E) if batchFirst else (L, B, E), or unbatched (L, E)
     * @param key (B, S, kdim) / (S, B, kdim) / (S, kdim)
     * @param value (B, S, vdim) / (S, B, vdim) / (S, vdim)
     * @param keyPaddingMask BOOL (B, S), true = padding, or null
     * @param needWeights also return the attention weights
     * @param attnMask BOOL (true = masked) or float additive, (L, S) or (B * numHeads, L, S), or null
     * @param averageAttnWeights weights averaged over heads (B, L, S), else per head (B, H, L, S)
     * @param isCausal apply the causal mask (combined with attnMask if both are given)
     * @return output in the query's layout with embedDim features, and the weights (after dropout) or null
     */
    Attention forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights, Tensor attnMask,
            boolean averageAttnWeights, boolean isCausal);

    /** PyTorch's defaults: no masks, weights averaged over heads. */
    default Attention forward(Tensor query, Tensor key, Tensor value) {
        return forward(query, key, value, MhaOptions.DEFAULT);
    }

    /** PyTorch's {@code mha(query, key, value, key_padding_mask)}. */
    default Attention forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask) {
        return forward(query, key, value, keyPaddingMask, true, null, true, false);
    }

    /** PyTorch's {@code mha(query, key, value, key_padding_mask, need_weights)}. */
    default Attention forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights) {
        return forward(query, key, value, keyPaddingMask, needWeights, null, true, false);
    }

    /** PyTorch's {@code mha(query, key, value, key_padding_mask, need_weights, attn_mask)}. */
    default Attention forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights, Tensor attnMask) {
        return forward(query, key, value, keyPaddingMask, needWeights, attnMask, true, false);
    }

    /** The named form: {@code mha(x, mem, mem, key_padding_mask=kpm)} is {@code forward(x, mem, mem, MhaOptions.builder().keyPaddingMask(kpm).build())}. */
    default Attention forward(Tensor query, Tensor key, Tensor value, MhaOptions o) {
        return forward(query, key, value, o.keyPaddingMask(), o.needWeights(), o.attnMask(), o.averageAttnWeights(), o.isCausal());
    }
}
