package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * A lookup table, torch.nn.Embedding: integer ids (*) to vectors (*, dim); {@code weight} (num, dim) starts N(0, 1); with a padding index, that row starts
 * at zeros and never receives a gradient (so it stays as loaded or initialised).
 */
public class Embedding extends Layer {
    public final int numEmbeddings, embeddingDim;
    /** The padding row (negative arguments already resolved), or -1 for none. */
    public final int paddingIdx;
    public final Parameter weight;

    public Embedding(int numEmbeddings, int embeddingDim) {
        this(numEmbeddings, embeddingDim, null, Random4j.global());
    }

    /** paddingIdx may be negative (counted from the end, as PyTorch) or null for none. */
    public Embedding(int numEmbeddings, int embeddingDim, Integer paddingIdx) {
        this(numEmbeddings, embeddingDim, paddingIdx, Random4j.global());
    }

    public Embedding(int numEmbeddings, int embeddingDim, Integer paddingIdx, Random4j rng) {
        if (numEmbeddings < 1 || embeddingDim < 1) {
            throw new IllegalArgumentException("Embedding: sizes must be >= 1, got " + numEmbeddings + " x " + embeddingDim);
        }
        if (paddingIdx != null && (paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings)) {
            throw new IllegalArgumentException("Embedding: paddingIdx " + paddingIdx + " out of range for " + numEmbeddings + " embeddings");
        }
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        this.paddingIdx = paddingIdx == null ? -1 : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
        this.weight = param("weight", Tensor.zeros(numEmbeddings, embeddingDim));
        Init.normal_(weight.data(), 0, 1, rng);
        if (this.paddingIdx >= 0) {
            try (var g = Grad.disabled()) {
                weight.data().narrow(0, this.paddingIdx, 1).zero_();
            }
        }
    }

    /** Integer indices (any shape) -> (indices..., dim). */
    @Override
    public Tensor forward(Tensor input) {
        return paddingIdx >= 0 ? F.embedding(input, weight.data(), paddingIdx) : F.embedding(input, weight.data());
    }
}
