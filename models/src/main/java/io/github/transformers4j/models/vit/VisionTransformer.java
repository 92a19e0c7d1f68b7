package io.github.transformers4j.models.vit;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.attention.WindowAttention;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.models.bert.BertConfig;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.models.mae.Masking;
import io.github.transformers4j.models.vit.ViTConfig.Blocks;
import io.github.transformers4j.models.vit.ViTConfig.ClassToken;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.Flatten;
import io.github.transformers4j.nn.GELU;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Layer;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.Sequential;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.nn.transformer.TransformerEncoder;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Vision Transformer (Dosovitskiy et al. 2020), one class for every variant of the model zoo, each stage chosen by
 * the {@link ViTConfig} (as timm's {@code VisionTransformer}):
 * <pre>
 * images (B, C, H, W) -> patch_embed -> (B, N, d)                     linear on patchified images, or Conv2d [+ LayerNorm]
 *   -> class token before or after the patches, or none -> (B, L, d)   L = N (+ 1)
 *   -> + pos_embed (learned or sinusoidal, or none) -> dropout
 *   -> blocks (PyTorch encoder layers, windowed or not; einsum blocks; a BERT encoder)
 *   -> [norm on every token] -> pool: class token, mean of the patch tokens, or all tokens flattened
 *   -> [norm on the pooled vector] -> head (linear or MLP, or none) -> logits (B, classes)
 * </pre>
 * State-dict keys, the PyTorch twins' (tools/fixtures/models.py): {@code patch_embed.weight|bias} (linear) or
 * {@code patch_embed.proj.*} [{@code patch_embed.norm.*}] (conv), {@code cls_token} (1, 1, d), {@code pos_embed}
 * (1, L, d) (a buffer with sinusoidal positions: in the state dict, not among the parameters), the blocks
 * ({@code encoder.layers.i.*}, {@code layers.i.*}, {@code blocks.i.*} or {@code bert.*}, see {@link Blocks}),
 * {@code norm.*}, {@code head.*} or {@code readout.*}. Linear layers start as PyTorch's; the class token and learned
 * positions start from a normal distribution with std 0.02 truncated to [-2, 2] (timm). Parameters are created in
 * the order of the stages, so a seed gives the twins' initial weights stage by stage.
 */
public class VisionTransformer extends ImageClassifier {
    public final ViTConfig config;
    public final Layer patchEmbed;    // Linear (on patchified images) or PatchEmbedding
    public final Parameter clsToken;  // null without a class token
    public final Parameter posEmbed;  // a buffer with sinusoidal positions; null without positions
    public final Dropout posDrop;     // null with BERT blocks (BERT's embeddings have their own)
    public final Module blocks;       // TransformerEncoder, ModuleList of layers or einsum blocks, or BertModel
    public final LayerNorm norm;      // null without
    public final Layer head;          // Linear or Sequential; null without
    private final UnaryOperator<Tensor> runBlocks;

    public VisionTransformer(ViTConfig c, Random4j rng) {
        this.config = c;
        int d = c.dim(), tokens = c.numTokens();
        patchEmbed = register("patch_embed", switch (c.patchEmbed()) {
            case LINEAR -> new Linear(c.patchDim(), d, true, rng);
            case CONV, CONV_NORM -> new PatchEmbedding(c.imageSize(), c.channels(), c.patchSize(), d,
                    c.patchEmbed() == ViTConfig.PatchEmbed.CONV_NORM, rng);
        });
        clsToken = c.classToken() == ClassToken.NONE ? null : param("cls_token", c.blocks() == Blocks.BERT
                ? Init.normal_(Tensor.zeros(1, 1, d), 0, 1.0 / 16, rng) : Init.truncNormal_(Tensor.zeros(1, 1, d), 0.02, rng));
        posEmbed = switch (c.positions()) {
            case LEARNED -> param("pos_embed", Init.truncNormal_(Tensor.zeros(1, tokens, d), 0.02, rng));
            case SINCOS -> buffer("pos_embed", SinCos.encoding1d(tokens, d).unsqueeze(0));
            case NONE -> null;
        };
        posDrop = c.blocks() == Blocks.BERT ? null : register("pos_drop", new Dropout(c.dropout(), rng));
        TransformerLayerConfig layer = TransformerLayerConfig.of(d, c.heads()).withDimFeedforward(c.mlpDim())
                .withDropout(c.dropout()).withActivation(Activation.GELU).withBatchFirst(true).withNormFirst(c.normFirst());
        switch (c.blocks()) {
            case ENCODER -> {
                var window = c.window() == 0 ? null : new WindowAttention(c.gridSize(), c.gridSize(), c.window(), tokens - c.numPatches());
                var encoder = new TransformerEncoder(() -> window == null ? new TransformerEncoderLayer(layer, rng)
                        : new WindowedEncoderLayer(layer, window, c.windowImpl(), rng), c.depth(), null);
                blocks = register("encoder", encoder);
                runBlocks = encoder::forward;
            }
            case LAYERS -> {
                var layers = new ModuleList<TransformerEncoderLayer>();
                for (int i = 0; i < c.depth(); i++) layers.add(new TransformerEncoderLayer(layer, rng));
                blocks = register("layers", layers);
                runBlocks = x -> {
                    for (TransformerEncoderLayer l : layers) x = l.forward(x);
                    return x;
                };
            }
            case EINSUM -> {
                var list = new ModuleList<EinsumBlock>();
                for (int i = 0; i < c.depth(); i++) list.add(new EinsumBlock(d, c.heads(), c.mlpDim(), c.dropout(), rng));
                blocks = register("blocks", list);
                runBlocks = x -> {
                    for (EinsumBlock b : list) x = b.forward(x);
                    return x;
                };
            }
            case BERT -> {
                var bert = new BertModel(BertConfig.of(d, c.depth(), c.heads(), c.mlpDim(), tokens).withDropout(c.dropout(), c.dropout()), rng);
                blocks = register("bert", bert);
                runBlocks = bert::forward;
            }
            default -> throw new AssertionError(c.blocks());
        }
        norm = c.norm() == ViTConfig.Norm.NONE ? null : register("norm", new LayerNorm(d));
        int f = c.featureDim(), h = c.headHidden(), k = c.numClasses();
        head = switch (c.head()) {
            case LINEAR -> register("head", new Linear(f, k, true, rng));
            case MLP -> register("head", new Sequential(new Flatten(), new Linear(f, h, true, rng), new GELU(), new Linear(h, k, true, rng)));
            case READOUT -> register("readout", new Sequential(new Linear(f, h, true, rng), new GELU(), new Linear(h, k, true, rng)));
            case NONE -> null;
        };
    }

    /**
     * Stochastic depth over the blocks, as timm's {@code drop_path_rate}: block i of depth n drops its residual branches
     * with probability rate * i / (n - 1) while training (0 for the first block, rate for the last); BERT blocks drop
     * the branch before each post-norm residual add. Returns this.
     */
    public VisionTransformer dropPath(double rate) {
        if (!(rate >= 0 && rate <= 1)) throw new IllegalArgumentException("drop path rate must be in [0, 1], got " + rate);
        int n = config.depth();
        java.util.function.IntToDoubleFunction at = i -> n == 1 ? 0 : rate * i / (n - 1);
        switch (blocks) {
            case TransformerEncoder e -> {
                for (int i = 0; i < n; i++) e.layers.get(i).dropPath(at.applyAsDouble(i));
            }
            case ModuleList<?> list -> {
                for (int i = 0; i < n; i++) {
                    switch (list.get(i)) {
                        case TransformerEncoderLayer l -> l.dropPath(at.applyAsDouble(i));
                        case EinsumBlock b -> b.dropPath(at.applyAsDouble(i));
                        default -> throw new AssertionError(list.get(i).getClass());
                    }
                }
            }
            case BertModel bert -> {
                for (int i = 0; i < n; i++) bert.encoder.layer.get(i).dropPath(at.applyAsDouble(i));
            }
            default -> throw new AssertionError(blocks.getClass());
        }
        return this;
    }

    /** Logits (B, numClasses) for images (B, C, H, W) of the configured size; the features without a head. */
    @Override
    public Tensor forward(Tensor images) {
        Tensor f = features(images);
        return head == null ? f : head.forward(f);
    }

    /** What the head reads: the pooled (and, with a pooled norm, normalised) representation (B, d), or (B, L d). */
    public Tensor features(Tensor images) {
        Tensor x = tokens(images, null);
        Tensor pooled = switch (config.pooling()) {
            case CLS -> x.select(1, config.classToken() == ClassToken.FIRST ? 0 : config.numPatches());
            case MEAN -> config.classToken() == ClassToken.NONE ? x.mean(1, false)
                    : x.narrow(1, config.classToken() == ClassToken.FIRST ? 1 : 0, config.numPatches()).mean(1, false);
            case ALL -> x.flatten(1, 2);
        };
        return config.norm() == ViTConfig.Norm.POOLED ? norm.forward(pooled) : pooled;
    }

    /**
     * Every token after the blocks (and a token norm): (B, L, d). With {@code idsKeep} (I64 (B, K), MAE's visible
     * patches) only those patch tokens are kept, after their positions are added: (B, K (+ 1), d).
     */
    public Tensor tokens(Tensor images, Tensor idsKeep) {
        int[] s = images.shape();
        if (s.length != 4 || s[1] != config.channels() || s[2] != config.imageSize() || s[3] != config.imageSize())
            throw new IllegalArgumentException("VisionTransformer: expected images (B, " + config.channels() + ", "
                    + config.imageSize() + ", " + config.imageSize() + "), got " + Arrays.toString(s));
        Tensor x = patchEmbed instanceof Linear l ? l.forward(patchify(images, config.patchSize())) : patchEmbed.forward(images); // (B, N, d)
        x = idsKeep == null ? embed(x) : embedVisible(x, idsKeep);
        if (posDrop != null) x = posDrop.forward(x);
        x = runBlocks.apply(x);
        return config.norm() == ViTConfig.Norm.TOKENS ? norm.forward(x) : x;
    }

    /** Patch tokens (B, N, d) with the class token and the positions: (B, L, d). */
    private Tensor embed(Tensor x) {
        int b = x.size(0), d = config.dim();
        x = switch (config.classToken()) {
            case FIRST -> Tensor.cat(List.of(clsToken.data().expand(b, 1, d), x), 1);
            case LAST -> Tensor.cat(List.of(x, clsToken.data().expand(b, 1, d)), 1);
            case NONE -> x;
        };
        return posEmbed == null ? x : x.add(posEmbed.data());
    }

    /** MAE's order: positions on every patch, keep the visible ones, then the class token with its position first. */
    private Tensor embedVisible(Tensor x, Tensor idsKeep) {
        if (config.classToken() != ClassToken.FIRST || posEmbed == null)
            throw new IllegalStateException("VisionTransformer: visible-patch encoding needs a class token first and positions, got "
                    + config.classToken().id() + ", " + config.positions().id());
        int n = config.numPatches(), d = config.dim();
        Tensor pos = posEmbed.data();
        x = Masking.gatherTokens(x.add(pos.narrow(1, 1, n)), idsKeep);                        // (B, K, d)
        Tensor cls = clsToken.data().add(pos.narrow(1, 0, 1)).expand(x.size(0), 1, d);
        return Tensor.cat(List.of(cls, x), 1);
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
