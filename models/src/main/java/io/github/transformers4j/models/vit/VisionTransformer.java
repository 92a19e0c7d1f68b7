package io.github.transformers4j.models.vit;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.nn.transformer.TransformerEncoder;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * Vision Transformer (Dosovitskiy et al. 2020) for classification:
 * <pre>
 * images (B, C, H, W) -> patchify -> (B, N, C p p) -> patch_embed Linear -> (B, N, d)
 *   -> prepend cls_token -> (B, N + 1, d) -> + pos_embed -> dropout -> encoder (depth layers, GELU)
 *   -> class token (or mean of patch tokens) -> norm -> head -> logits (B, classes)
 * </pre>
 * State-dict keys: {@code cls_token} (1, 1, d), {@code pos_embed} (1, N + 1, d), {@code patch_embed.weight/bias},
 * {@code encoder.layers.i.*} (PyTorch's TransformerEncoderLayer names), {@code norm.*}, {@code head.*}. The PyTorch
 * twin is {@code nn.Linear} + {@code nn.TransformerEncoder(batch_first=True, activation="gelu")} + {@code nn.LayerNorm}
 * + {@code nn.Linear} with two {@code nn.Parameter}s. Linear layers start as PyTorch's; the class token and the
 * positions start from a normal distribution with std 0.02 truncated to [-2, 2] (timm).
 */
public class VisionTransformer extends ImageClassifier {
    public final ViTConfig config;
    public final Parameter clsToken, posEmbed;
    public final Linear patchEmbed, head;
    public final Dropout posDrop;
    public final TransformerEncoder encoder;
    public final LayerNorm norm;

    public VisionTransformer(ViTConfig c, Random4j rng) {
        this.config = c;
        int d = c.dim();
        patchEmbed = register("patch_embed", new Linear(c.patchDim(), d, true, rng));
        clsToken = param("cls_token", Init.truncNormal_(Tensor.zeros(1, 1, d), 0.02, rng));
        posEmbed = param("pos_embed", Init.truncNormal_(Tensor.zeros(1, c.numPatches() + 1, d), 0.02, rng));
        posDrop = register("pos_drop", new Dropout(c.dropout(), rng));
        TransformerLayerConfig layer = TransformerLayerConfig.of(d, c.heads()).withDimFeedforward(c.mlpDim())
                .withDropout(c.dropout()).withActivation(Activation.GELU).withBatchFirst(true).withNormFirst(c.normFirst());
        encoder = register("encoder", new TransformerEncoder(() -> new TransformerEncoderLayer(layer, rng), c.depth(), null));
        norm = register("norm", new LayerNorm(d));
        head = register("head", new Linear(d, c.numClasses(), true, rng));
    }

    /** Logits (B, numClasses) for images (B, C, H, W) of the configured size. */
    @Override
    public Tensor forward(Tensor images) {
        return head.forward(features(images));
    }

    /** The pooled, normalised representation (B, d) that the head reads. */
    public Tensor features(Tensor images) {
        int[] s = images.shape();
        if (s.length != 4 || s[1] != config.channels() || s[2] != config.imageSize() || s[3] != config.imageSize())
            throw new IllegalArgumentException("VisionTransformer: expected images (B, " + config.channels() + ", "
                    + config.imageSize() + ", " + config.imageSize() + "), got " + java.util.Arrays.toString(s));
        int b = s[0], d = config.dim();
        Tensor x = patchEmbed.forward(patchify(images, config.patchSize()));          // (B, N, d)
        Tensor cls = clsToken.data().expand(b, 1, d);
        x = Tensor.cat(List.of(cls, x), 1).add(posEmbed.data());                       // (B, N + 1, d)
        x = encoder.forward(posDrop.forward(x));
        Tensor pooled = config.pooling() == Pooling.CLS ? x.select(1, 0) : x.narrow(1, 1, config.numPatches()).mean(1, false);
        return norm.forward(pooled);                                                   // (B, d)
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public ViTConfig config() {
        return config;
    }

    /**
     * {@code b c (h p1) (w p2) -> b (h w) (c p1 p2)}: images (B, C, H, W) to patch rows (B, H/p * W/p, C p p),
     * patches in row-major order, each flattened channel-first.
     */
    public static Tensor patchify(Tensor images, int p) {
        int[] s = images.shape();
        if (s.length != 4 || s[2] % p != 0 || s[3] % p != 0)
            throw new IllegalArgumentException("patchify: expected (B, C, H, W) with H and W multiples of patch " + p
                    + ", got " + java.util.Arrays.toString(s));
        int b = s[0], c = s[1], h = s[2] / p, w = s[3] / p;
        return images.reshape(b, c, h, p, w, p).permute(0, 2, 4, 1, 3, 5).reshape(b, h * w, c * p * p);
    }

    /** The inverse of {@link #patchify}: (B, h w, C p p) back to (B, C, h p, w p) for an image of height h p. */
    public static Tensor unpatchify(Tensor patches, int p, int channels, int height) {
        int[] s = patches.shape();
        if (s.length != 3 || s[2] != channels * p * p || height % p != 0 || s[1] % (height / p) != 0)
            throw new IllegalArgumentException("unpatchify: patches " + java.util.Arrays.toString(s) + " do not fit patch "
                    + p + ", " + channels + " channels, height " + height);
        int b = s[0], h = height / p, w = s[1] / h;
        return patches.reshape(b, h, w, channels, p, p).permute(0, 3, 1, 4, 2, 5).reshape(b, channels, h * p, w * p);
    }
}
