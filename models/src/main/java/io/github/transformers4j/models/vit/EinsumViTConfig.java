package io.github.transformers4j.models.vit;

/**
 * Configuration of an {@link EinsumViT}.
 *
 * @param headHidden hidden width of the MLP head that reads all (N + 1) tokens flattened
 */
public record EinsumViTConfig(int imageSize, int channels, int patchSize, int dim, int depth, int heads, int mlpDim,
                              int headHidden, double dropout, int numClasses) {
    public EinsumViTConfig {
        if (imageSize <= 0 || channels <= 0 || patchSize <= 0 || dim <= 0 || depth <= 0 || heads <= 0 || mlpDim <= 0
                || headHidden <= 0 || numClasses <= 0)
            throw new IllegalArgumentException("EinsumViTConfig: sizes must be positive: imageSize=" + imageSize + " channels=" + channels
                    + " patchSize=" + patchSize + " dim=" + dim + " depth=" + depth + " heads=" + heads + " mlpDim=" + mlpDim
                    + " headHidden=" + headHidden + " numClasses=" + numClasses);
        if (dim % heads != 0) throw new IllegalArgumentException("EinsumViTConfig: dim " + dim + " is not divisible by heads " + heads);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("EinsumViTConfig: dropout must be in [0, 1), got " + dropout);
    }

    public int numPatches() {
        int g = PatchEmbedding.gridFor(imageSize, patchSize);
        return g * g;
    }

    public EinsumViTConfig withData(int imageSize, int channels, int numClasses) {
        return new EinsumViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, headHidden, dropout, numClasses);
    }
}
