package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.tensor.Tensor;

/**
 * The call forms of a transformer decoder (layer or stack), as PyTorch's positional ones, and the named form, all from
 * the full {@link #forward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, boolean, boolean)}.
 */
public interface DecoderForward {
    /**
     * @param tgt (B, T, d_model) if batchFirst else (T, B, d_model)
     * @param memory the encoder output, (B, S, d_model) / (S, B, d_model)
     * @param tgtMask (T, T) or (B * nhead, T, T); BOOL true = masked, or float additive; or null
     * @param memoryMask (T, S) or (B * nhead, T, S), or null
     * @param tgtKeyPaddingMask BOOL (B, T), true = padding; or null
     * @param memoryKeyPaddingMask BOOL (B, S), true = padding; or null
     * @param tgtIsCausal causal self-attention
     * @param memoryIsCausal causal cross-attention (rarely wanted)
     */
    Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask, Tensor memoryKeyPaddingMask,
            boolean tgtIsCausal, boolean memoryIsCausal);

    default Tensor forward(Tensor tgt, Tensor memory) {
        return forward(tgt, memory, null, null, null, null, false, false);
    }

    /** PyTorch's {@code decoder(tgt, memory, tgt_mask)}. */
    default Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask) {
        return forward(tgt, memory, tgtMask, null, null, null, false, false);
    }

    /** PyTorch's {@code decoder(tgt, memory, tgt_mask, memory_mask)}. */
    default Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask) {
        return forward(tgt, memory, tgtMask, memoryMask, null, null, false, false);
    }

    /** PyTorch's {@code decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)}. */
    default Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask,
            Tensor memoryKeyPaddingMask) {
        return forward(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, false, false);
    }

    /** The named form: the {@code tgt*} and {@code memory*} fields of {@code masks}. */
    default Tensor forward(Tensor tgt, Tensor memory, TransformerMasks m) {
        return forward(tgt, memory, m.tgtMask(), m.memoryMask(), m.tgtKeyPaddingMask(), m.memoryKeyPaddingMask(), m.tgtIsCausal(),
                m.memoryIsCausal());
    }
}
