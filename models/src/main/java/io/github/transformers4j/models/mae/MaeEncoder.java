package io.github.transformers4j.models.mae;

import io.github.transformers4j.models.vit.PatchEmbedding;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * The MAE encoder, a pre-norm ViT that sees only the visible patches while pre-training and all of them when
 * classifying:
 * <pre>
 * images -> patch_embed (Conv2d k = s = P) -> (B, N, d) + pos_embed[1:] -> keep the visible rows (B, K, d)
 *   -> prepend cls_token + pos_embed[0] -> layers (pre-norm, GELU) -> norm -> (B, 1 + K, d)
 * </pre>
 * Keys: {@code patch_embed.proj.*}, {@code cls_token} (1, 1, d), {@code pos_embed} (1, N + 1, d) (learned),
 * {@code layers.i.*} (PyTorch's TransformerEncoderLayer, norm_first), {@code norm.*}.
 */
public class MaeEncoder extends Module {
    public final MaeConfig config;
    public final PatchEmbedding patchEmbed;
    public final Parameter clsToken, posEmbed;
    public final ModuleList<TransformerEncoderLayer> layers;
    public final LayerNorm norm;

    public MaeEncoder(MaeConfig c, Random4j rng) {
        this.config = c;
        int d = c.encoderDim();
        patchEmbed = register("patch_embed", new PatchEmbedding(c.imageSize(), c.channels(), c.patchSize(), d, false, rng));
        clsToken = param("cls_token", Init.truncNormal_(Tensor.zeros(1, 1, d), 0.02, rng));
        posEmbed = param("pos_embed", Init.truncNormal_(Tensor.zeros(1, c.numPatches() + 1, d), 0.02, rng));
        TransformerLayerConfig layer = TransformerLayerConfig.of(d, c.encoderHeads()).withDimFeedforward(c.encoderMlpDim())
                .withDropout(0).withActivation(Activation.GELU).withBatchFirst(true).withNormFirst(true);
        layers = register("layers", new ModuleList<>());
        for (int i = 0; i < c.encoderDepth(); i++) layers.add(new TransformerEncoderLayer(layer, rng));
        norm = register("norm", new LayerNorm(d));
    }

    /** All patches: (B, C, S, S) -> (B, 1 + N, d), the class token first. */
    public Tensor forward(Tensor images) {
        return forward(images, null);
    }

    /** Only the visible patches of {@code masking} (all when null): (B, 1 + K, d). */
    public Tensor forward(Tensor images, Masking masking) {
        int n = config.numPatches(), d = config.encoderDim();
        Tensor pos = posEmbed.data();
        Tensor x = patchEmbed.forward(images).add(pos.narrow(1, 1, n));      // (B, N, d)
        if (masking != null) x = Masking.gatherTokens(x, masking.idsKeep()); // (B, K, d)
        Tensor cls = clsToken.data().add(pos.narrow(1, 0, 1)).expand(x.size(0), 1, d);
        x = Tensor.cat(List.of(cls, x), 1);
        for (TransformerEncoderLayer l : layers) x = l.forward(x);
        return norm.forward(x);
    }
}
