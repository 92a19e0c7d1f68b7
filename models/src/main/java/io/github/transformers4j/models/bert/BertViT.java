package io.github.transformers4j.models.bert;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.vit.PatchEmbedding;
import io.github.transformers4j.nn.GELU;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.Sequential;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * A BERT encoder as an image classifier ({@code vit-bert12-p4}), the {@code BertViT} of the PyTorch reference
 * workloads:
 * <pre>
 * images -> patch_embed (Conv2d k = s = P) -> (B, N, d) -> prepend cls_token -> (B, N + 1, d)
 *   -> bert (BertModel(inputs_embeds): learned positions, embedding LayerNorm, dropout, 12 post-norm layers)
 *   -> last hidden state of the class token -> readout Linear(d, d) -> GELU -> Linear(d, classes)
 * </pre>
 * Keys: {@code patch_embed.proj.*}, {@code cls_token}, {@code bert.embeddings.*}, {@code bert.encoder.layer.i.*}
 * (Hugging Face's names, see {@link BertModel}), {@code readout.0.*}, {@code readout.2.*}. The position table has
 * exactly N + 1 rows (the reference sizes it 256 and uses the first 65).
 */
public class BertViT extends ImageClassifier {
    /**
     * @param imageSize  image side (the patch embedding pads to cover it)
     * @param patchSize  kernel and stride of the patch convolution
     * @param bert       the encoder; its maxPositionEmbeddings must be at least N + 1
     */
    public record Config(int imageSize, int channels, int patchSize, int numClasses, BertConfig bert) {
        public Config {
            if (imageSize < 1 || channels < 1 || patchSize < 1 || numClasses < 1)
                throw new IllegalArgumentException("BertViT.Config: sizes must be positive: image " + imageSize + ", channels "
                        + channels + ", patch " + patchSize + ", classes " + numClasses);
        }

        public int numPatches() {
            int g = PatchEmbedding.gridFor(imageSize, patchSize);
            return g * g;
        }

        /** This configuration for other data, with the position table resized to N + 1. */
        public Config withData(int imageSize, int channels, int numClasses) {
            int g = PatchEmbedding.gridFor(imageSize, patchSize);
            BertConfig b = bert.withMaxPositionEmbeddings(g * g + 1);
            return new Config(imageSize, channels, patchSize, numClasses, b);
        }
    }

    public final Config config;
    public final PatchEmbedding patchEmbed;
    public final Parameter clsToken;
    public final BertModel bert;
    public final Sequential readout;

    public BertViT(Config c, Random4j rng) {
        this.config = c;
        int d = c.bert().hiddenSize();
        if (c.bert().maxPositionEmbeddings() < c.numPatches() + 1)
            throw new IllegalArgumentException("BertViT: " + (c.numPatches() + 1) + " tokens but only " + c.bert().maxPositionEmbeddings()
                    + " position embeddings");
        patchEmbed = register("patch_embed", new PatchEmbedding(c.imageSize(), c.channels(), c.patchSize(), d, false, rng));
        clsToken = param("cls_token", Init.normal_(Tensor.zeros(1, 1, d), 0, 1.0 / 16, rng));
        bert = register("bert", new BertModel(c.bert(), rng));
        readout = register("readout", new Sequential(new Linear(d, d, true, rng), new GELU(), new Linear(d, c.numClasses(), true, rng)));
    }

    @Override
    public Tensor forward(Tensor images) {
        Tensor p = patchEmbed.forward(images); // (B, N, d)
        Tensor e = Tensor.cat(List.of(clsToken.data().expand(p.size(0), 1, p.size(2)), p), 1);
        return readout.forward(bert.forward(e).select(1, 0));
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public Config config() {
        return config;
    }
}
