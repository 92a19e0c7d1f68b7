package io.github.transformers4j.models.vit;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.attention.WindowAttention;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.Dropout;
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
 * Vision Transformer with a convolutional patch embedding, the course variants {@code vit-conv-p16} and
 * {@code vit-sincos-p8}:
 * <pre>
 * images (B, C, S, S) -> patch_embed (Conv2d k = s = P [+ LayerNorm]) -> (B, N, d)
 *   [-> prepend cls_token] -> + pos_embed (learned parameter or fixed sinusoidal buffer) -> dropout
 *   -> encoder (post-norm PyTorch layers, GELU; optionally windowed attention)
 *   -> class token, or the mean of the patch tokens -> head Linear -> logits (B, classes)
 * </pre>
 * State-dict keys: {@code patch_embed.proj.*}, {@code patch_embed.norm.*}, {@code cls_token} (1, 1, d),
 * {@code pos_embed} (1, L, d), {@code encoder.layers.i.*} (PyTorch's TransformerEncoderLayer names), {@code head.*}.
 * With sinusoidal positions {@code pos_embed} is a buffer: in the state dict, not among the parameters. The PyTorch
 * twin is {@code ConvViT} in {@code tools/fixtures/models.py}.
 */
public class ConvViT extends ImageClassifier {
    public final ConvViTConfig config;
    public final PatchEmbedding patchEmbed;
    public final Parameter clsToken; // null with mean pooling
    public final Parameter posEmbed; // a buffer with sinusoidal positions
    public final Dropout posDrop;
    public final TransformerEncoder encoder;
    public final Linear head;

    public ConvViT(ConvViTConfig c, Random4j rng) {
        this.config = c;
        int d = c.dim(), tokens = c.numTokens();
        boolean cls = c.pooling() == Pooling.CLS;
        patchEmbed = register("patch_embed", new PatchEmbedding(c.imageSize(), c.channels(), c.patchSize(), d, c.patchNorm(), rng));
        clsToken = cls ? param("cls_token", Init.truncNormal_(Tensor.zeros(1, 1, d), 0.02, rng)) : null;
        posEmbed = c.positions() == Positions.LEARNED
                ? param("pos_embed", Init.truncNormal_(Tensor.zeros(1, tokens, d), 0.02, rng))
                : buffer("pos_embed", SinCos.encoding1d(tokens, d).unsqueeze(0));
        posDrop = register("pos_drop", new Dropout(c.dropout(), rng));
        TransformerLayerConfig layer = TransformerLayerConfig.of(d, c.heads()).withDimFeedforward(c.mlpDim())
                .withDropout(c.dropout()).withActivation(Activation.GELU).withBatchFirst(true);
        if (c.window() == 0) {
            encoder = register("encoder", new TransformerEncoder(() -> new TransformerEncoderLayer(layer, rng), c.depth(), null));
        } else {
            var window = new WindowAttention(c.gridSize(), c.gridSize(), c.window(), cls ? 1 : 0);
            encoder = register("encoder", new TransformerEncoder(() -> new WindowedEncoderLayer(layer, window, c.windowImpl(), rng), c.depth(), null));
        }
        head = register("head", new Linear(d, c.numClasses(), true, rng));
    }

    @Override
    public Tensor forward(Tensor images) {
        return head.forward(features(images));
    }

    /** The pooled representation (B, d) that the head reads. */
    public Tensor features(Tensor images) {
        Tensor x = patchEmbed.forward(images); // (B, N, d)
        if (clsToken != null) x = Tensor.cat(List.of(clsToken.data().expand(x.size(0), 1, config.dim()), x), 1);
        x = encoder.forward(posDrop.forward(x.add(posEmbed.data())));
        return clsToken != null ? x.select(1, 0) : x.mean(1, false);
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public ConvViTConfig config() {
        return config;
    }
}
