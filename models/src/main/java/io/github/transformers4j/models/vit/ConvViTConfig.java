package io.github.transformers4j.models.vit;

import io.github.transformers4j.models.attention.WindowedEncoderLayer;

/**
 * Configuration of a {@link ConvViT}.
 *
 * @param imageSize  side of the square input images (need not be a multiple of patchSize: see {@link PatchEmbedding})
 * @param channels   input channels
 * @param patchSize  kernel and stride of the patch convolution
 * @param dim        token width
 * @param depth      encoder layers
 * @param heads      attention heads
 * @param mlpDim     feed-forward width
 * @param dropout    dropout of the encoder layers (and after the positions)
 * @param numClasses classes of the head
 * @param patchNorm  LayerNorm on the patch tokens right after the convolution
 * @param positions  {@code LEARNED} (a parameter, trunc-normal std 0.02) or {@code SINCOS} (a fixed 1-D sinusoidal buffer)
 * @param pooling    {@code CLS} (a class token is prepended and read out) or {@code MEAN} (global average pooling of the
 *                   patch tokens, no class token)
 * @param window     0 for global attention, else an odd K: each patch attends to a K x K window of patches
 * @param windowImpl {@code MASK} (attention mask on full attention) or {@code BLOCKED} (gathered neighbours)
 * <pre>{@code
 * ConvViTConfig c = ConvViTConfig.builder().patchSize(16).depth(3).patchNorm(true).build(); // vit-conv-p16
 * }</pre>
 */
public record ConvViTConfig(int imageSize, int channels, int patchSize, int dim, int depth, int heads, int mlpDim,
                            double dropout, int numClasses, boolean patchNorm, Positions positions, Pooling pooling,
                            int window, WindowedEncoderLayer.Impl windowImpl) {
    public ConvViTConfig {
        if (imageSize <= 0 || channels <= 0 || patchSize <= 0 || dim <= 0 || depth <= 0 || heads <= 0 || mlpDim <= 0 || numClasses <= 0)
            throw new IllegalArgumentException("ConvViTConfig: sizes must be positive: imageSize=" + imageSize + " channels=" + channels
                    + " patchSize=" + patchSize + " dim=" + dim + " depth=" + depth + " heads=" + heads + " mlpDim=" + mlpDim
                    + " numClasses=" + numClasses);
        if (dim % heads != 0) throw new IllegalArgumentException("ConvViTConfig: dim " + dim + " is not divisible by heads " + heads);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("ConvViTConfig: dropout must be in [0, 1), got " + dropout);
        if (positions == null || pooling == null || windowImpl == null)
            throw new IllegalArgumentException("ConvViTConfig: positions, pooling and windowImpl must be given, got " + positions + ", "
                    + pooling + ", " + windowImpl);
        if (positions == Positions.SINCOS && dim % 2 != 0)
            throw new IllegalArgumentException("ConvViTConfig: sinusoidal positions need an even dim, got " + dim);
        if (window < 0 || window > 0 && window % 2 == 0)
            throw new IllegalArgumentException("ConvViTConfig: window must be 0 (global attention) or odd, got " + window);
    }

    public int gridSize() {
        return PatchEmbedding.gridFor(imageSize, patchSize);
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Sequence length: patches plus the class token when pooling is {@code cls}. */
    public int numTokens() {
        return numPatches() + (pooling == Pooling.CLS ? 1 : 0);
    }

    public ConvViTConfig withData(int imageSize, int channels, int numClasses) {
        return new ConvViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, patchNorm,
                positions, pooling, window, windowImpl);
    }

    public ConvViTConfig withWindow(int window, WindowedEncoderLayer.Impl impl) {
        return new ConvViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, patchNorm,
                positions, pooling, window, impl);
    }

    public ConvViTConfig withDropout(double p) {
        return new ConvViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, p, numClasses, patchNorm,
                positions, pooling, window, windowImpl);
    }

    /**
     * Defaults: 32 x 32 x 3 images, 10 classes, patch 16, 256-d, 3 layers, 4 heads, FFN 1024, no dropout, no patch norm,
     * learned positions, class token, global attention.
     */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int imageSize = 32, channels = 3, patchSize = 16, dim = 256, depth = 3, heads = 4, mlpDim = 1024, numClasses = 10, window;
        private double dropout;
        private boolean patchNorm;
        private Positions positions = Positions.LEARNED;
        private Pooling pooling = Pooling.CLS;
        private WindowedEncoderLayer.Impl windowImpl = WindowedEncoderLayer.Impl.MASK;

        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder channels(int v) { channels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder dim(int v) { dim = v; return this; }
        public Builder depth(int v) { depth = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder mlpDim(int v) { mlpDim = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }
        public Builder patchNorm(boolean v) { patchNorm = v; return this; }
        public Builder positions(Positions v) { positions = v; return this; }
        public Builder pooling(Pooling v) { pooling = v; return this; }
        public Builder window(int k, WindowedEncoderLayer.Impl impl) { window = k; windowImpl = impl; return this; }

        public ConvViTConfig build() {
            return new ConvViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, patchNorm, positions,
                    pooling, window, windowImpl);
        }
    }
}
