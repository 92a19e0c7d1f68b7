package io.github.transformers4j.models.vit;

/**
 * Configuration of a {@link VisionTransformer}.
 *
 * @param imageSize  height and width of the (square) input images; a multiple of patchSize
 * @param channels   input channels (1 for Fashion-MNIST, 3 for CIFAR)
 * @param patchSize  side of the square patches; the model sees (imageSize / patchSize)^2 patch tokens
 * @param dim        token width (d_model)
 * @param depth      number of encoder layers
 * @param heads      attention heads (dim must be divisible by heads)
 * @param mlpDim     hidden width of each feed-forward block
 * @param dropout    dropout after the position embedding and inside every encoder layer
 * @param numClasses output classes of the head
 * @param pooling    {@code CLS}: the class token feeds the head; {@code MEAN}: the mean of the patch tokens does
 * @param normFirst  pre-norm encoder layers (timm style) instead of post-norm (PyTorch's default)
 * <pre>{@code
 * ViTConfig c = ViTConfig.builder().patchSize(4).dim(128).depth(4).heads(4).mlpDim(512).build(); // vit-mini-p4
 * }</pre>
 */
public record ViTConfig(int imageSize, int channels, int patchSize, int dim, int depth, int heads, int mlpDim,
                        double dropout, int numClasses, Pooling pooling, boolean normFirst) {
    public ViTConfig {
        if (imageSize <= 0 || channels <= 0 || patchSize <= 0 || dim <= 0 || depth <= 0 || heads <= 0 || mlpDim <= 0 || numClasses <= 0)
            throw new IllegalArgumentException("ViTConfig: sizes must be positive: " + fields(imageSize, channels, patchSize, dim, depth, heads, mlpDim, numClasses));
        if (imageSize % patchSize != 0)
            throw new IllegalArgumentException("ViTConfig: image size " + imageSize + " is not a multiple of patch size " + patchSize);
        if (dim % heads != 0)
            throw new IllegalArgumentException("ViTConfig: dim " + dim + " is not divisible by heads " + heads);
        if (!(dropout >= 0 && dropout < 1))
            throw new IllegalArgumentException("ViTConfig: dropout must be in [0, 1), got " + dropout);
        if (pooling == null) throw new IllegalArgumentException("ViTConfig: pooling is null (CLS or MEAN)");
    }

    private static String fields(int imageSize, int channels, int patchSize, int dim, int depth, int heads, int mlpDim, int numClasses) {
        return "imageSize=" + imageSize + " channels=" + channels + " patchSize=" + patchSize + " dim=" + dim + " depth=" + depth
                + " heads=" + heads + " mlpDim=" + mlpDim + " numClasses=" + numClasses;
    }

    /** Patch tokens per image, (imageSize / patchSize)^2. */
    public int numPatches() {
        int side = imageSize / patchSize;
        return side * side;
    }

    /** Values per patch token before the projection, channels * patchSize^2. */
    public int patchDim() {
        return channels * patchSize * patchSize;
    }

    public ViTConfig withData(int imageSize, int channels, int numClasses) {
        return new ViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, pooling, normFirst);
    }

    public ViTConfig withDropout(double p) {
        return new ViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, p, numClasses, pooling, normFirst);
    }

    public ViTConfig withPooling(Pooling p) {
        return new ViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, p, normFirst);
    }

    public ViTConfig withNormFirst(boolean v) {
        return new ViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, pooling, v);
    }

    /** Defaults: 32 x 32 x 3 images, 10 classes, patch 4, 256-d, 4 layers, 4 heads, FFN 1024, no dropout, class token, post-norm. */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int imageSize = 32, channels = 3, patchSize = 4, dim = 256, depth = 4, heads = 4, mlpDim = 1024, numClasses = 10;
        private double dropout;
        private Pooling pooling = Pooling.CLS;
        private boolean normFirst;

        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder channels(int v) { channels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder dim(int v) { dim = v; return this; }
        public Builder depth(int v) { depth = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder mlpDim(int v) { mlpDim = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }
        public Builder pooling(Pooling v) { pooling = v; return this; }
        public Builder normFirst(boolean v) { normFirst = v; return this; }

        public ViTConfig build() {
            return new ViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, pooling, normFirst);
        }
    }
}
