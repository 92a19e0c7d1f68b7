package io.github.transformers4j.models.vit;

import io.github.transformers4j.nn.Conv2d;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Layer;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Patch embedding by convolution, as timm's {@code PatchEmbed}: {@code proj} = Conv2d(channels, dim, kernel = stride =
 * patch) and, optionally, {@code norm} = LayerNorm(dim) over each token.
 * <pre>
 * images (B, C, S, S) -> proj -> (B, dim, g, g) -> flatten + transpose -> (B, g * g, dim) -> norm
 * </pre>
 * When the image side S is not a multiple of the patch size, the convolution pads {@link #padding} zeros on every
 * side so that the patches cover the image: Fashion-MNIST's 28 x 28 with patch 16 is padded to 32 x 32 (2 x 2
 * patches), with patch 8 also to 32 x 32 (4 x 4 patches). The PyTorch twin is
 * {@code nn.Conv2d(C, dim, patch, patch, padding=padding)}.
 */
public class PatchEmbedding extends Layer {
    public final int imageSize, patchSize, padding, gridSize;
    public final Conv2d proj;
    public final LayerNorm norm; // null without a norm

    public PatchEmbedding(int imageSize, int channels, int patchSize, int dim, boolean withNorm, Random4j rng) {
        if (imageSize < 1 || channels < 1 || patchSize < 1 || dim < 1)
            throw new IllegalArgumentException("PatchEmbedding: sizes must be positive: image " + imageSize + ", channels " + channels
                    + ", patch " + patchSize + ", dim " + dim);
        if (patchSize > imageSize + 2 * paddingFor(imageSize, patchSize))
            throw new IllegalArgumentException("PatchEmbedding: patch " + patchSize + " is larger than the image " + imageSize);
        this.imageSize = imageSize;
        this.patchSize = patchSize;
        this.padding = paddingFor(imageSize, patchSize);
        this.gridSize = gridFor(imageSize, patchSize);
        proj = register("proj", new Conv2d(channels, dim, patchSize, patchSize, padding, true, rng));
        norm = withNorm ? register("norm", new LayerNorm(dim)) : null;
    }

    /** Zeros on each side so that ceil(S / P) patches cover the image: ceil((P ceil(S / P) - S) / 2). */
    public static int paddingFor(int imageSize, int patchSize) {
        int covered = (imageSize + patchSize - 1) / patchSize * patchSize;
        return (covered - imageSize + 1) / 2;
    }

    /** Patches along one side: (S + 2 pad - P) / P + 1 (= ceil(S / P)). */
    public static int gridFor(int imageSize, int patchSize) {
        return (imageSize + 2 * paddingFor(imageSize, patchSize) - patchSize) / patchSize + 1;
    }

    public int numPatches() {
        return gridSize * gridSize;
    }

    /** (B, C, S, S) -> (B, g * g, dim), patches in row-major order. */
    @Override
    public Tensor forward(Tensor images) {
        int[] s = images.shape();
        if (s.length != 4 || s[1] != proj.inChannels || s[2] != imageSize || s[3] != imageSize)
            throw new IllegalArgumentException("PatchEmbedding: expected images (B, " + proj.inChannels + ", " + imageSize + ", "
                    + imageSize + "), got " + Arrays.toString(s));
        Tensor x = proj.forward(images).flatten(2, 3).transpose(1, 2); // (B, N, dim)
        return norm == null ? x : norm.forward(x);
    }
}
