package io.github.transformers4j.models.mae;

import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.VisionTransformer;

/**
 * Configuration of a {@link MaskedAutoencoder} (and of the encoder that {@link MaeClassifier} fine-tunes).
 *
 * @param imageSize     image side, a multiple of patchSize (the reconstruction target is the patchified image)
 * @param encoderDim    encoder token width
 * @param encoderDepth  encoder layers (pre-norm, GELU)
 * @param encoderHeads  encoder heads
 * @param encoderMlpDim encoder feed-forward width
 * @param decoderDim    decoder token width
 * @param decoderDepth  decoder layers
 * @param decoderHeads  decoder heads
 * @param decoderMlpDim decoder feed-forward width
 * @param maskRatio     fraction of patches hidden from the encoder; it sees floor(N (1 - maskRatio)) of them
 * @param normPixLoss   reconstruct each patch's pixels normalised by the patch's mean and variance (MAE's option)
 * @param numClasses    classes of the classifier built on the encoder
 */
public record MaeConfig(int imageSize, int channels, int patchSize, int encoderDim, int encoderDepth, int encoderHeads,
                        int encoderMlpDim, int decoderDim, int decoderDepth, int decoderHeads, int decoderMlpDim,
                        double maskRatio, boolean normPixLoss, int numClasses) {
    public MaeConfig {
        if (imageSize < 1 || channels < 1 || patchSize < 1 || encoderDim < 1 || encoderDepth < 1 || encoderHeads < 1
                || encoderMlpDim < 1 || decoderDim < 1 || decoderDepth < 1 || decoderHeads < 1 || decoderMlpDim < 1 || numClasses < 1)
            throw new IllegalArgumentException("MaeConfig: sizes must be positive: " + this);
        if (imageSize % patchSize != 0)
            throw new IllegalArgumentException("MaeConfig: image size " + imageSize + " is not a multiple of patch size " + patchSize
                    + " (the reconstruction target is the patchified image)");
        if (encoderDim % encoderHeads != 0 || decoderDim % decoderHeads != 0)
            throw new IllegalArgumentException("MaeConfig: widths must be divisible by the heads: encoder " + encoderDim + "/" + encoderHeads
                    + ", decoder " + decoderDim + "/" + decoderHeads);
        if (!(maskRatio >= 0 && maskRatio < 1)) throw new IllegalArgumentException("MaeConfig: maskRatio must be in [0, 1), got " + maskRatio);
        if (numVisible(imageSize, patchSize, maskRatio) < 1)
            throw new IllegalArgumentException("MaeConfig: mask ratio " + maskRatio + " leaves no visible patch of " + numPatches(imageSize, patchSize));
    }

    private static int numPatches(int imageSize, int patchSize) {
        return (imageSize / patchSize) * (imageSize / patchSize);
    }

    private static int numVisible(int imageSize, int patchSize, double maskRatio) {
        return (int) (numPatches(imageSize, patchSize) * (1 - maskRatio));
    }

    public int numPatches() {
        return numPatches(imageSize, patchSize);
    }

    /** Patches the encoder sees: floor(N (1 - maskRatio)), as MAE's {@code len_keep}. */
    public int numVisible() {
        return numVisible(imageSize, patchSize, maskRatio);
    }

    /** Values per patch, C p^2: the width of the reconstruction. */
    public int patchDim() {
        return channels * patchSize * patchSize;
    }

    /**
     * The encoder, a pre-norm {@link VisionTransformer} without a head: Conv2d patches, class token first, learned
     * positions, {@code layers.i.*} blocks, a norm on every token.
     */
    public ViTConfig encoder() {
        return ViTConfig.builder().imageSize(imageSize).channels(channels).patchSize(patchSize).dim(encoderDim).depth(encoderDepth)
                .heads(encoderHeads).mlpDim(encoderMlpDim).numClasses(numClasses).patchEmbed(ViTConfig.PatchEmbed.CONV)
                .blocks(ViTConfig.Blocks.LAYERS).normFirst(true).norm(ViTConfig.Norm.TOKENS).head(ViTConfig.Head.NONE).build();
    }

    public MaeConfig withData(int imageSize, int channels, int numClasses) {
        return new MaeConfig(imageSize, channels, patchSize, encoderDim, encoderDepth, encoderHeads, encoderMlpDim, decoderDim,
                decoderDepth, decoderHeads, decoderMlpDim, maskRatio, normPixLoss, numClasses);
    }

    public MaeConfig withMaskRatio(double r) {
        return new MaeConfig(imageSize, channels, patchSize, encoderDim, encoderDepth, encoderHeads, encoderMlpDim, decoderDim,
                decoderDepth, decoderHeads, decoderMlpDim, r, normPixLoss, numClasses);
    }

    public MaeConfig withNormPixLoss(boolean on) {
        return new MaeConfig(imageSize, channels, patchSize, encoderDim, encoderDepth, encoderHeads, encoderMlpDim, decoderDim,
                decoderDepth, decoderHeads, decoderMlpDim, maskRatio, on, numClasses);
    }

    /**
     * Defaults (mae-tiny): 32 x 32 x 3 images, patch 4, encoder 256-d x 4 (4 heads, FFN 1024), decoder 128-d x 2 (4 heads,
     * FFN 512), mask ratio 0.75, raw-pixel loss, 10 classes.
     */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int imageSize = 32, channels = 3, patchSize = 4, encoderDim = 256, encoderDepth = 4, encoderHeads = 4, encoderMlpDim = 1024;
        private int decoderDim = 128, decoderDepth = 2, decoderHeads = 4, decoderMlpDim = 512, numClasses = 10;
        private double maskRatio = 0.75;
        private boolean normPixLoss;

        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder channels(int v) { channels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        /** Encoder width, layers, heads and feed-forward width. */
        public Builder encoder(int dim, int depth, int heads, int mlpDim) {
            encoderDim = dim; encoderDepth = depth; encoderHeads = heads; encoderMlpDim = mlpDim;
            return this;
        }
        /** Decoder width, layers, heads and feed-forward width. */
        public Builder decoder(int dim, int depth, int heads, int mlpDim) {
            decoderDim = dim; decoderDepth = depth; decoderHeads = heads; decoderMlpDim = mlpDim;
            return this;
        }
        public Builder maskRatio(double v) { maskRatio = v; return this; }
        public Builder normPixLoss(boolean v) { normPixLoss = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }

        public MaeConfig build() {
            return new MaeConfig(imageSize, channels, patchSize, encoderDim, encoderDepth, encoderHeads, encoderMlpDim, decoderDim,
                    decoderDepth, decoderHeads, decoderMlpDim, maskRatio, normPixLoss, numClasses);
        }
    }
}
