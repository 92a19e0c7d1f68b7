package io.github.transformers4j.models.vit;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.Flatten;
import io.github.transformers4j.nn.GELU;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.Sequential;
import io.github.transformers4j.nn.attention.EinsumMultiheadAttention;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * The "ViT from scratch with einsum" course variant ({@code vit-einsum-p16}): attention computed from ONE packed weight
 * tensor by einsum ({@link EinsumMultiheadAttention}: {@code qkv_weight} (3, d, H, E)), pre-norm blocks, the class
 * token appended AFTER the patch tokens, and a head that flattens every token into an MLP:
 * <pre>
 * images -> patch_embed (Conv2d k = s = P) -> (B, N, d) -> append cls_token -> (B, N + 1, d) -> + pos_embed -> dropout
 *   -> blocks: x = x + attn(norm1(x)); x = x + mlp(norm2(x))     mlp = Linear, GELU, Dropout, Linear, Dropout
 *   -> norm -> head: Flatten (B, (N + 1) d) -> Linear -> GELU -> Linear -> logits
 * </pre>
 * Keys: {@code patch_embed.proj.*}, {@code cls_token}, {@code pos_embed}, {@code blocks.i.norm1.*},
 * {@code blocks.i.attn.qkv_weight|qkv_bias|out_weight|out_bias}, {@code blocks.i.mlp.0.*}, {@code blocks.i.mlp.3.*},
 * {@code norm.*}, {@code head.1.*}, {@code head.3.*}.
 */
public class EinsumViT extends ImageClassifier {
    /** A pre-norm encoder block with einsum attention. */
    public static class Block extends Module {
        public final LayerNorm norm1, norm2;
        public final EinsumMultiheadAttention attn;
        public final Sequential mlp;

        public Block(int dim, int heads, int mlpDim, double dropout, Random4j rng) {
            norm1 = register("norm1", new LayerNorm(dim));
            attn = register("attn", new EinsumMultiheadAttention(dim, heads, dropout, true, true, rng)).dropoutRng(rng);
            norm2 = register("norm2", new LayerNorm(dim));
            mlp = register("mlp", new Sequential(new Linear(dim, mlpDim, true, rng), new GELU(), new Dropout(dropout, rng),
                    new Linear(mlpDim, dim, true, rng), new Dropout(dropout, rng)));
        }

        /** (B, L, d) -> (B, L, d). */
        public Tensor forward(Tensor x) {
            Tensor h = norm1.forward(x);
            x = x.add(attn.forward(h, h, h, null, false, null, true, false).output());
            return x.add(mlp.forward(norm2.forward(x)));
        }
    }

    public final EinsumViTConfig config;
    public final PatchEmbedding patchEmbed;
    public final Parameter clsToken, posEmbed;
    public final Dropout posDrop;
    public final ModuleList<Block> blocks;
    public final LayerNorm norm;
    public final Sequential head;

    public EinsumViT(EinsumViTConfig c, Random4j rng) {
        this.config = c;
        int d = c.dim();
        patchEmbed = register("patch_embed", new PatchEmbedding(c.imageSize(), c.channels(), c.patchSize(), d, false, rng));
        clsToken = param("cls_token", Init.truncNormal_(Tensor.zeros(1, 1, d), 0.02, rng));
        posEmbed = param("pos_embed", Init.truncNormal_(Tensor.zeros(1, c.numPatches() + 1, d), 0.02, rng));
        posDrop = register("pos_drop", new Dropout(c.dropout(), rng));
        blocks = register("blocks", new ModuleList<>());
        for (int i = 0; i < c.depth(); i++) blocks.add(new Block(d, c.heads(), c.mlpDim(), c.dropout(), rng));
        norm = register("norm", new LayerNorm(d));
        head = register("head", new Sequential(new Flatten(), new Linear((c.numPatches() + 1) * d, c.headHidden(), true, rng),
                new GELU(), new Linear(c.headHidden(), c.numClasses(), true, rng)));
    }

    @Override
    public Tensor forward(Tensor images) {
        Tensor x = patchEmbed.forward(images); // (B, N, d)
        x = Tensor.cat(List.of(x, clsToken.data().expand(x.size(0), 1, config.dim())), 1).add(posEmbed.data());
        x = posDrop.forward(x);
        for (Block b : blocks) x = b.forward(x);
        return head.forward(norm.forward(x)); // (B, (N + 1) d) -> logits
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public EinsumViTConfig config() {
        return config;
    }
}
