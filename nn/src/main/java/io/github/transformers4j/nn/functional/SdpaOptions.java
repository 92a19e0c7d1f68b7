package io.github.transformers4j.nn.functional;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * The named form of {@link F#scaledDotProductAttention(Tensor, Tensor, Tensor, SdpaOptions)}'s arguments (Java has no
 * keyword arguments): {@code F.scaledDotProductAttention(q, k, v, SdpaOptions.builder().keyPaddingMask(kpm).isCausal(true).build())}.
 *
 * @param attnMask as {@code torch.nn.functional.scaled_dot_product_attention}'s {@code attn_mask}: BOOL with
 *     {@code true} = the query attends to that key, or floating point, added to the scores (-inf = masked);
 *     broadcastable to (B, H, Lq, Lk); or null
 * @param keyPaddingMask BOOL (B, Lk), {@code true} = padding: every query ignores that key (PyTorch's
 *     {@code key_padding_mask} sense); or null
 * @param isCausal query i sees keys j &lt;= i (top-left aligned, as PyTorch), combined with the masks above
 * @param dropoutP dropout on the attention weights, applied whenever &gt; 0 (pass 0 in evaluation, as PyTorch's
 *     modules do)
 * @param scale factor on q k^T; null = 1 / sqrt(E)
 * @param rng dropout's generator; null = {@link Random4j#global()}
 * @param needWeights also return the weights (B, H, Lq, Lk), after dropout (those applied to v, as PyTorch)
 */
public record SdpaOptions(Tensor attnMask, Tensor keyPaddingMask, boolean isCausal, double dropoutP, Double scale, Random4j rng,
        boolean needWeights) {
    public static final SdpaOptions DEFAULT = builder().build();

    public SdpaOptions {
        if (!(dropoutP >= 0 && dropoutP <= 1)) throw new IllegalArgumentException("SdpaOptions: dropoutP must be in [0, 1], got " + dropoutP);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().attnMask(attnMask).keyPaddingMask(keyPaddingMask).isCausal(isCausal).dropoutP(dropoutP).scale(scale)
                .rng(rng).needWeights(needWeights);
    }

    public static final class Builder {
        private Tensor attnMask, keyPaddingMask;
        private boolean isCausal, needWeights;
        private double dropoutP;
        private Double scale;
        private Random4j rng;

        public Builder attnMask(Tensor v) { attnMask = v; return this; }
        public Builder keyPaddingMask(Tensor v) { keyPaddingMask = v; return this; }
        public Builder isCausal(boolean v) { isCausal = v; return this; }
        public Builder dropoutP(double v) { dropoutP = v; return this; }
        public Builder scale(Double v) { scale = v; return this; }
        public Builder rng(Random4j v) { rng = v; return this; }
        public Builder needWeights(boolean v) { needWeights = v; return this; }

        public SdpaOptions build() {
            return new SdpaOptions(attnMask, keyPaddingMask, isCausal, dropoutP, scale, rng, needWeights);
        }
    }
}
