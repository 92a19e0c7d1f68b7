package io.github.transformers4j.models.vit;

import java.util.Locale;

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
 * @param positions  {@code learned} (a parameter, trunc-normal std 0.02) or {@code sincos} (a fixed 1-D sinusoidal buffer)
 * @param pooling    {@code cls} (a class token is prepended and read out) or {@code mean} (global average pooling of the
 *                   patch tokens, no class token)
 * @param window     0 for global attention, else an odd K: each patch attends to a K x K window of patches
 * @param windowImpl {@code mask} (attention mask on full attention) or {@code blocked} (gathered neighbours)
 */
public record ConvViTConfig(int imageSize, int channels, int patchSize, int dim, int depth, int heads, int mlpDim,
                            double dropout, int numClasses, boolean patchNorm, String positions, String pooling,
                            int window, String windowImpl) {
    public ConvViTConfig {
        if (imageSize <= 0 || channels <= 0 || patchSize <= 0 || dim <= 0 || depth <= 0 || heads <= 0 || mlpDim <= 0 || numClasses <= 0)
            throw new IllegalArgumentException("ConvViTConfig: sizes must be positive: imageSize=" + imageSize + " channels=" + channels
                    + " patchSize=" + patchSize + " dim=" + dim + " depth=" + depth + " heads=" + heads + " mlpDim=" + mlpDim
                    + " numClasses=" + numClasses);
        if (dim % heads != 0) throw new IllegalArgumentException("ConvViTConfig: dim " + dim + " is not divisible by heads " + heads);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("ConvViTConfig: dropout must be in [0, 1), got " + dropout);
        positions = positions.toLowerCase(Locale.ROOT);
        pooling = pooling.toLowerCase(Locale.ROOT);
        windowImpl = windowImpl.toLowerCase(Locale.ROOT);
        if (!positions.equals("learned") && !positions.equals("sincos"))
            throw new IllegalArgumentException("ConvViTConfig: positions must be 'learned' or 'sincos', got '" + positions + "'");
        if (positions.equals("sincos") && dim % 2 != 0)
            throw new IllegalArgumentException("ConvViTConfig: sinusoidal positions need an even dim, got " + dim);
        if (!pooling.equals("cls") && !pooling.equals("mean"))
            throw new IllegalArgumentException("ConvViTConfig: pooling must be 'cls' or 'mean', got '" + pooling + "'");
        if (window < 0 || window > 0 && window % 2 == 0)
            throw new IllegalArgumentException("ConvViTConfig: window must be 0 (global attention) or odd, got " + window);
        if (!windowImpl.equals("mask") && !windowImpl.equals("blocked"))
            throw new IllegalArgumentException("ConvViTConfig: windowImpl must be 'mask' or 'blocked', got '" + windowImpl + "'");
    }

    public int gridSize() {
        return PatchEmbedding.gridFor(imageSize, patchSize);
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Sequence length: patches plus the class token when pooling is {@code cls}. */
    public int numTokens() {
        return numPatches() + (pooling.equals("cls") ? 1 : 0);
    }

    public ConvViTConfig withData(int imageSize, int channels, int numClasses) {
        return new ConvViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, patchNorm,
                positions, pooling, window, windowImpl);
    }

    public ConvViTConfig withWindow(int window, String impl) {
        return new ConvViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, patchNorm,
                positions, pooling, window, impl);
    }

    public ConvViTConfig withDropout(double p) {
        return new ConvViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, p, numClasses, patchNorm,
                positions, pooling, window, windowImpl);
    }
}
