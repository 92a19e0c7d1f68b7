package io.github.transformers4j.nn.attention;

import io.github.transformers4j.tensor.Tensor;

/**
 * The named form of {@link MultiheadAttention#forward(Tensor, Tensor, Tensor, MhaOptions)}'s arguments after query, key
 * and value, with PyTorch's defaults (Java has no keyword arguments): {@code mha(x, mem, mem, key_padding_mask=kpm)}
 * is {@code mha.forward(x, mem, mem, MhaOptions.builder().keyPaddingMask(kpm).build())}.
 *
 * @param keyPaddingMask BOOL (B, S), {@code true} = padding; or null
 * @param needWeights also return the attention weights (PyTorch's default: true)
 * @param attnMask (L, S) or (B * numHeads, L, S): BOOL with {@code true} = NOT allowed (nn.MultiheadAttention's sense),
 *     or float, added to the scores; or null
 * @param averageAttnWeights weights averaged over heads (default) or per head
 * @param isCausal add the causal mask
 */
public record MhaOptions(Tensor keyPaddingMask, boolean needWeights, Tensor attnMask, boolean averageAttnWeights, boolean isCausal) {
    public static final MhaOptions DEFAULT = builder().build();

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Tensor keyPaddingMask, attnMask;
        private boolean needWeights = true, averageAttnWeights = true, isCausal;

        public Builder keyPaddingMask(Tensor v) { keyPaddingMask = v; return this; }
        public Builder needWeights(boolean v) { needWeights = v; return this; }
        public Builder attnMask(Tensor v) { attnMask = v; return this; }
        public Builder averageAttnWeights(boolean v) { averageAttnWeights = v; return this; }
        public Builder isCausal(boolean v) { isCausal = v; return this; }

        public MhaOptions build() {
            return new MhaOptions(keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal);
        }
    }
}
