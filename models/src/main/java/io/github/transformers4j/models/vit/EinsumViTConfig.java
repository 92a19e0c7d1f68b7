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

    /** Defaults (vit-einsum-p16): 32 x 32 x 3 images, patch 16, 256-d, 4 layers, 8 heads, FFN 512, head 256, no dropout, 10 classes. */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int imageSize = 32, channels = 3, patchSize = 16, dim = 256, depth = 4, heads = 8, mlpDim = 512, headHidden = 256, numClasses = 10;
        private double dropout;

        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder channels(int v) { channels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder dim(int v) { dim = v; return this; }
        public Builder depth(int v) { depth = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder mlpDim(int v) { mlpDim = v; return this; }
        public Builder headHidden(int v) { headHidden = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }

        public EinsumViTConfig build() {
            return new EinsumViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, headHidden, dropout, numClasses);
        }
    }
}
