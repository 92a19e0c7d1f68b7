package io.github.transformers4j.models.vit;

import com.fasterxml.jackson.annotation.JsonValue;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.nn.Choices;

/**
 * Configuration of a {@link VisionTransformer}: the sizes, then one choice per stage of the model (as timm's
 * {@code VisionTransformer} arguments: {@code embed_layer}, {@code class_token}, {@code pos_embed}, {@code block_fn},
 * {@code global_pool}, {@code fc_norm}, the head). Every preset of the model zoo is one of these.
 *
 * @param imageSize  side of the square input images (a multiple of patchSize for {@link PatchEmbed#LINEAR}; a
 *                   convolution pads, see {@link PatchEmbedding})
 * @param channels   input channels (1 for Fashion-MNIST, 3 for CIFAR)
 * @param patchSize  side of the square patches
 * @param dim        token width (d_model)
 * @param depth      encoder blocks
 * @param heads      attention heads (dim must be divisible by heads)
 * @param mlpDim     hidden width of each feed-forward block
 * @param dropout    dropout after the positions and inside every block (BERT blocks: hidden and attention dropout)
 * @param numClasses output classes of the head
 * @param pooling    what the head reads: the class token, the mean of the patch tokens, or all tokens flattened
 * @param normFirst  pre-norm {@link Blocks#ENCODER}/{@link Blocks#LAYERS} blocks (timm) instead of post-norm (PyTorch's
 *                   default); einsum blocks are always pre-norm, BERT blocks always post-norm
 * @param patchEmbed how images become patch tokens
 * @param classToken where the learned class token goes, or none
 * @param positions  learned position parameter, fixed sinusoidal buffer, or none (BERT blocks bring their own)
 * @param blocks     the encoder blocks, with the state-dict layout of their PyTorch twin
 * @param norm       the final LayerNorm {@code norm}: on every token before pooling, on the pooled vector, or none
 * @param head       the classifier on the pooled features, or none (an encoder, as MAE's)
 * @param headHidden hidden width of an {@link Head#MLP} or {@link Head#READOUT} head (0 otherwise)
 * @param window     0 for global attention, else an odd K: each patch attends to a K x K window of patches
 *                   ({@link Blocks#ENCODER} only)
 * @param windowImpl {@code MASK} (attention mask on full attention) or {@code BLOCKED} (gathered neighbours)
 * <pre>{@code
 * ViTConfig c = ViTConfig.builder().patchSize(4).dim(128).depth(4).heads(4).mlpDim(512).build(); // vit-mini-p4
 * }</pre>
 */
public record ViTConfig(int imageSize, int channels, int patchSize, int dim, int depth, int heads, int mlpDim,
                        double dropout, int numClasses, Pooling pooling, boolean normFirst, PatchEmbed patchEmbed,
                        ClassToken classToken, Positions positions, Blocks blocks, Norm norm, Head head, int headHidden,
                        int window, WindowedEncoderLayer.Impl windowImpl) {
    /** Patch tokens: {@code patch_embed.weight/bias}, a Linear on patchified images; or {@code patch_embed.proj.*}, a Conv2d. */
    public enum PatchEmbed {
        /** patchify (B, N, C p p) then Linear(C p p, d), as the original ViT; the image side must be a multiple of p */
        LINEAR,
        /** Conv2d(C, d, kernel = stride = p), padded to cover the image (timm's PatchEmbed) */
        CONV,
        /** the convolution and a LayerNorm on each patch token ({@code patch_embed.norm.*}) */
        CONV_NORM;

        @JsonValue
        public String id() { return Choices.id(this); }
    }

    /** The learned class token {@code cls_token} (1, 1, d): before the patch tokens, after them, or none. */
    public enum ClassToken {
        FIRST, LAST, NONE;

        @JsonValue
        public String id() { return Choices.id(this); }
    }

    /** The encoder blocks and where their keys live. */
    public enum Blocks {
        /** {@code encoder.layers.i.*}: PyTorch's nn.TransformerEncoder of nn.TransformerEncoderLayer (GELU) */
        ENCODER,
        /** {@code layers.i.*}: the same layers in a plain list (MAE's encoder) */
        LAYERS,
        /** {@code blocks.i.*}: pre-norm blocks whose attention is einsum on one packed qkv tensor ({@link EinsumBlock}) */
        EINSUM,
        /**
         * {@code bert.*}: a BERT encoder fed with embeddings (its own learned positions, embedding LayerNorm and
         * dropout, post-norm layers, Hugging Face's names); the class token starts from N(0, 1/16^2) as in the
         * BertViT reference
         */
        BERT;

        @JsonValue
        public String id() { return Choices.id(this); }
    }

    /** The final LayerNorm {@code norm}: none, on every token (timm's {@code norm}), or on the pooled vector (timm's {@code fc_norm}). */
    public enum Norm {
        NONE, TOKENS, POOLED;

        @JsonValue
        public String id() { return Choices.id(this); }
    }

    /** The classifier. */
    public enum Head {
        /** {@code head}: Linear(features, classes) */
        LINEAR,
        /** {@code head.1}, {@code head.3}: Flatten, Linear(features, hidden), GELU, Linear(hidden, classes) */
        MLP,
        /** {@code readout.0}, {@code readout.2}: Linear(features, hidden), GELU, Linear(hidden, classes) (the BERT reference's) */
        READOUT,
        /** no head: the model returns its features (an encoder) */
        NONE;

        @JsonValue
        public String id() { return Choices.id(this); }
    }

    public ViTConfig {
        // the defaults of the choices: for the builder, and for configurations written before a field existed (a plain
        // ViT's config.json)
        if (patchEmbed == null) patchEmbed = PatchEmbed.LINEAR;
        if (classToken == null) classToken = ClassToken.FIRST;
        if (positions == null) positions = Positions.LEARNED;
        if (blocks == null) blocks = Blocks.ENCODER;
        if (norm == null) norm = Norm.POOLED;
        if (head == null) head = Head.LINEAR;
        if (windowImpl == null) windowImpl = WindowedEncoderLayer.Impl.MASK;
        if (pooling == null) pooling = Pooling.CLS;
        if (imageSize <= 0 || channels <= 0 || patchSize <= 0 || dim <= 0 || depth <= 0 || heads <= 0 || mlpDim <= 0 || numClasses <= 0)
            throw new IllegalArgumentException("ViTConfig: sizes must be positive: imageSize=" + imageSize + " channels=" + channels
                    + " patchSize=" + patchSize + " dim=" + dim + " depth=" + depth + " heads=" + heads + " mlpDim=" + mlpDim
                    + " numClasses=" + numClasses);
        if (dim % heads != 0) throw new IllegalArgumentException("ViTConfig: dim " + dim + " is not divisible by heads " + heads);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("ViTConfig: dropout must be in [0, 1), got " + dropout);
        if (patchEmbed == PatchEmbed.LINEAR && imageSize % patchSize != 0)
            throw new IllegalArgumentException("ViTConfig: image size " + imageSize + " is not a multiple of patch size " + patchSize
                    + " (linear patches; a conv patch embedding pads the image)");
        if (pooling == Pooling.CLS && classToken == ClassToken.NONE)
            throw new IllegalArgumentException("ViTConfig: cls pooling needs a class token (classToken is none)");
        if (positions == Positions.SINCOS && dim % 2 != 0)
            throw new IllegalArgumentException("ViTConfig: sinusoidal positions need an even dim, got " + dim);
        if (blocks == Blocks.BERT && positions != Positions.NONE)
            throw new IllegalArgumentException("ViTConfig: BERT blocks add their own positions: positions must be none, got " + positions.id());
        if (blocks == Blocks.EINSUM && !normFirst || blocks == Blocks.BERT && normFirst)
            throw new IllegalArgumentException("ViTConfig: " + blocks.id() + " blocks are " + (normFirst ? "post" : "pre") + "-norm, normFirst "
                    + normFirst + " contradicts them");
        if (window < 0 || window > 0 && window % 2 == 0)
            throw new IllegalArgumentException("ViTConfig: window must be 0 (global attention) or odd, got " + window);
        if (window > 0 && (blocks != Blocks.ENCODER || classToken == ClassToken.LAST))
            throw new IllegalArgumentException("ViTConfig: windowed attention needs encoder blocks and no class token after the patches, got "
                    + blocks.id() + " blocks, class token " + classToken.id());
        if (pooling == Pooling.ALL && norm == Norm.POOLED)
            throw new IllegalArgumentException("ViTConfig: all-token pooling takes the norm on the tokens (norm tokens or none), not pooled");
        if ((head == Head.MLP || head == Head.READOUT) != headHidden > 0)
            throw new IllegalArgumentException("ViTConfig: headHidden is the hidden width of an mlp or readout head (> 0 for those, 0 "
                    + "otherwise), got " + headHidden + " with head " + head.id());
    }

    /** Patches along one side: imageSize / patchSize, or ceil of it for a padded convolution. */
    public int gridSize() {
        return PatchEmbedding.gridFor(imageSize, patchSize);
    }

    /** Patch tokens per image. */
    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Sequence length: the patches plus the class token. */
    public int numTokens() {
        return numPatches() + (classToken == ClassToken.NONE ? 0 : 1);
    }

    /** Values per patch before the embedding, channels * patchSize^2. */
    public int patchDim() {
        return channels * patchSize * patchSize;
    }

    /** Width of the pooled features the head reads: d, or (tokens * d) for all-token pooling. */
    public int featureDim() {
        return pooling == Pooling.ALL ? numTokens() * dim : dim;
    }

    /** This configuration for other data. */
    public ViTConfig withData(int imageSize, int channels, int numClasses) {
        return toBuilder().imageSize(imageSize).channels(channels).numClasses(numClasses).build();
    }

    public ViTConfig withDropout(double p) {
        return toBuilder().dropout(p).build();
    }

    public ViTConfig withPooling(Pooling p) {
        return toBuilder().pooling(p).build();
    }

    public ViTConfig withNormFirst(boolean v) {
        return toBuilder().normFirst(v).build();
    }

    public ViTConfig withWindow(int k, WindowedEncoderLayer.Impl impl) {
        return toBuilder().window(k, impl).build();
    }

    /**
     * Defaults (a plain ViT, the vit-tiny-p4 sizes): 32 x 32 x 3 images, 10 classes, linear patches 4, 256-d, 4 layers,
     * 4 heads, FFN 1024, no dropout, class token first, learned positions, post-norm encoder blocks, the class token
     * read out, normed, by a linear head; global attention.
     */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.imageSize = imageSize; b.channels = channels; b.patchSize = patchSize; b.dim = dim; b.depth = depth; b.heads = heads;
        b.mlpDim = mlpDim; b.dropout = dropout; b.numClasses = numClasses; b.pooling = pooling; b.normFirst = normFirst;
        b.patchEmbed = patchEmbed; b.classToken = classToken; b.positions = positions; b.blocks = blocks; b.norm = norm;
        b.head = head; b.headHidden = headHidden; b.window = window; b.windowImpl = windowImpl;
        return b;
    }

    public static final class Builder {
        private int imageSize = 32, channels = 3, patchSize = 4, dim = 256, depth = 4, heads = 4, mlpDim = 1024, numClasses = 10;
        private int headHidden, window;
        private double dropout;
        private boolean normFirst;
        // choices left null take the record's defaults (its constructor fills them)
        private Pooling pooling;
        private PatchEmbed patchEmbed;
        private ClassToken classToken;
        private Positions positions;
        private Blocks blocks;
        private Norm norm;
        private Head head;
        private WindowedEncoderLayer.Impl windowImpl;

        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder channels(int v) { channels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder dim(int v) { dim = v; return this; }
        public Builder depth(int v) { depth = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder mlpDim(int v) { mlpDim = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }
        public Builder pooling(Pooling v) { pooling = v; return this; }
        public Builder normFirst(boolean v) { normFirst = v; return this; }
        public Builder patchEmbed(PatchEmbed v) { patchEmbed = v; return this; }
        public Builder classToken(ClassToken v) { classToken = v; return this; }
        public Builder positions(Positions v) { positions = v; return this; }
        public Builder norm(Norm v) { norm = v; return this; }
        public Builder window(int k, WindowedEncoderLayer.Impl impl) { window = k; windowImpl = impl; return this; }

        /** The blocks; einsum blocks set normFirst, BERT blocks clear it and the positions (they bring their own). */
        public Builder blocks(Blocks v) {
            blocks = v;
            if (v == Blocks.EINSUM) normFirst = true;
            if (v == Blocks.BERT) { normFirst = false; positions = Positions.NONE; }
            return this;
        }

        /** A linear head or none; {@link #head(Head, int)} for the heads with a hidden layer. */
        public Builder head(Head v) { return head(v, 0); }

        public Builder head(Head v, int hidden) { head = v; headHidden = hidden; return this; }

        public ViTConfig build() {
            return new ViTConfig(imageSize, channels, patchSize, dim, depth, heads, mlpDim, dropout, numClasses, pooling, normFirst,
                    patchEmbed, classToken, positions, blocks, norm, head, headHidden, window, windowImpl);
        }
    }
}
