package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.tensor.Tensor;

/**
 * The call forms of a transformer encoder (layer or stack), as PyTorch's positional ones, and the named form, all from
 * the full {@link #forward(Tensor, Tensor, Tensor, boolean)}. The second positional argument is the attention mask
 * (PyTorch's {@code src_mask} / {@code mask}), never a key-padding mask.
 */
public interface EncoderForward {
    /**
     * @param src (B, L, d_model) if batchFirst else (L, B, d_model)
     * @param srcMask (L, L) or (B * nhead, L, L), BOOL true = masked or float additive; or null
     * @param srcKeyPaddingMask BOOL (B, L), true = padding; or null
     * @param isCausal apply the causal mask
     */
    Tensor forward(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask, boolean isCausal);

    default Tensor forward(Tensor src) {
        return forward(src, null, null, false);
    }

    /** PyTorch's {@code layer(src, src_mask)}. */
    default Tensor forward(Tensor src, Tensor srcMask) {
        return forward(src, srcMask, null, false);
    }

    /** PyTorch's {@code layer(src, src_mask, src_key_padding_mask)}. */
    default Tensor forward(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask) {
        return forward(src, srcMask, srcKeyPaddingMask, false);
    }

    /** The named form: the {@code src*} fields of {@code masks}. */
    default Tensor forward(Tensor src, TransformerMasks masks) {
        return forward(src, masks.srcMask(), masks.srcKeyPaddingMask(), masks.srcIsCausal());
    }
}
