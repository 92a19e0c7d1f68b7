package io.github.transformers4j.models.mae;

import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
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
 * The MAE decoder: the encoder's tokens plus a shared mask token at every hidden patch, unshuffled back into patch
 * order, with their own positions, through a few pre-norm layers, to a pixel prediction per patch:
 * <pre>
 * latent (B, 1 + K, D) -> embed Linear(D, d) -> append N - K mask tokens -> unshuffle with ids_restore
 *   -> (B, 1 + N, d) + pos_embed -> layers -> norm -> pred Linear(d, C p^2) -> drop the class token -> (B, N, C p^2)
 * </pre>
 * Keys: {@code embed.*}, {@code mask_token} (1, 1, d), {@code pos_embed} (1, N + 1, d), {@code layers.i.*},
 * {@code norm.*}, {@code pred.*}.
 */
public class MaeDecoder extends Module {
    public final MaeConfig config;
    public final Linear embed, pred;
    public final Parameter maskToken, posEmbed;
    public final ModuleList<TransformerEncoderLayer> layers;
    public final LayerNorm norm;

    public MaeDecoder(MaeConfig c, Random4j rng) {
        this.config = c;
        int d = c.decoderDim();
        embed = register("embed", new Linear(c.encoderDim(), d, true, rng));
        maskToken = param("mask_token", Init.truncNormal_(Tensor.zeros(1, 1, d), 0.02, rng));
        posEmbed = param("pos_embed", Init.truncNormal_(Tensor.zeros(1, c.numPatches() + 1, d), 0.02, rng));
        TransformerLayerConfig layer = TransformerLayerConfig.of(d, c.decoderHeads()).withDimFeedforward(c.decoderMlpDim())
                .withDropout(0).withActivation(Activation.GELU).withBatchFirst(true).withNormFirst(true);
        layers = register("layers", new ModuleList<>());
        for (int i = 0; i < c.decoderDepth(); i++) layers.add(new TransformerEncoderLayer(layer, rng));
        norm = register("norm", new LayerNorm(d));
        pred = register("pred", new Linear(d, c.patchDim(), true, rng));
    }

    /** latent (B, 1 + K, D), ids_restore (B, N) -> predicted patches (B, N, C p^2). */
    public Tensor forward(Tensor latent, Tensor idsRestore) {
        int b = latent.size(0), n = config.numPatches(), d = config.decoderDim(), k = latent.size(1) - 1;
        Tensor x = embed.forward(latent);                                                         // (B, 1 + K, d)
        Tensor patches = Tensor.cat(List.of(x.narrow(1, 1, k), maskToken.data().expand(b, n - k, d)), 1); // (B, N, d) shuffled
        patches = Masking.gatherTokens(patches, idsRestore);                                     // patch order
        x = Tensor.cat(List.of(x.narrow(1, 0, 1), patches), 1).add(posEmbed.data());
        for (TransformerEncoderLayer l : layers) x = l.forward(x);
        return pred.forward(norm.forward(x)).narrow(1, 1, n);
    }
}
