package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.tensor.Tensor;

/**
 * The masks of {@link Transformer}, {@link TransformerEncoder}, {@link TransformerDecoder} and their layers by name (Java
 * has no keyword arguments); each module reads the fields it has. Senses as PyTorch's: the {@code *Mask} fields are
 * BOOL with {@code true} = NOT allowed, or float, added to the scores; src (S, S), tgt (T, T), memory (T, S), or per
 * head (B * nhead, ., .). The {@code *KeyPaddingMask} fields are BOOL (B, S) / (B, T) / (B, S), {@code true} = padding.
 * The {@code *IsCausal} flags add the causal mask.
 */
public record TransformerMasks(Tensor srcMask, Tensor tgtMask, Tensor memoryMask, Tensor srcKeyPaddingMask, Tensor tgtKeyPaddingMask,
        Tensor memoryKeyPaddingMask, boolean srcIsCausal, boolean tgtIsCausal, boolean memoryIsCausal) {

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Tensor srcMask, tgtMask, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask;
        private boolean srcIsCausal, tgtIsCausal, memoryIsCausal;

        public Builder srcMask(Tensor v) { srcMask = v; return this; }
        public Builder tgtMask(Tensor v) { tgtMask = v; return this; }
        public Builder memoryMask(Tensor v) { memoryMask = v; return this; }
        public Builder srcKeyPaddingMask(Tensor v) { srcKeyPaddingMask = v; return this; }
        public Builder tgtKeyPaddingMask(Tensor v) { tgtKeyPaddingMask = v; return this; }
        public Builder memoryKeyPaddingMask(Tensor v) { memoryKeyPaddingMask = v; return this; }
        public Builder srcIsCausal(boolean v) { srcIsCausal = v; return this; }
        public Builder tgtIsCausal(boolean v) { tgtIsCausal = v; return this; }
        public Builder memoryIsCausal(boolean v) { memoryIsCausal = v; return this; }

        public TransformerMasks build() {
            return new TransformerMasks(srcMask, tgtMask, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask,
                    srcIsCausal, tgtIsCausal, memoryIsCausal);
        }
    }
}
