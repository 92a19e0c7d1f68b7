package io.github.transformers4j.models.vit;

import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.Conv2d;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.SdpaOptions;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Vision Transformer with Hugging Face's module structure and state-dict keys ({@code embeddings.cls_token},
 * {@code encoder.layer.i.attention.attention.query}, {@code layernorm}), so a transformers ViT checkpoint loads key for
 * key. The same maths as {@link VisionTransformer} (pre-norm blocks, class token, learned positions):
 * <pre>
 * embeddings: [cls_token; projection(patches)] + position_embeddings -> dropout         (B, 1 + N, d)
 * encoder.layer.i:  h = x + attention.output.dense(attn(layernorm_before(x)))
 *                   y = h + output.dense(act(intermediate.dense(layernorm_after(h))))
 * layernorm(y); pooler: tanh(dense(first token))                                        (optional)
 * </pre>
 */
public class ViTModel extends Module {
    /**
     * Hugging Face's {@code ViTConfig} (camelCase; defaults as ViT-Base/16 at 224: {@link #base()}).
     *
     * @param qkvBias whether query, key and value have biases
     */
    public record Config(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize, Activation hiddenAct,
                         double hiddenDropoutProb, double attentionProbsDropoutProb, double initializerRange, double layerNormEps,
                         int imageSize, int patchSize, int numChannels, boolean qkvBias) {
        public Config {
            if (hiddenSize < 1 || numHiddenLayers < 1 || numAttentionHeads < 1 || intermediateSize < 1 || imageSize < 1 || patchSize < 1
                    || numChannels < 1)
                throw new IllegalArgumentException("ViTModel.Config: sizes must be positive: hidden " + hiddenSize + ", layers " + numHiddenLayers
                        + ", heads " + numAttentionHeads + ", intermediate " + intermediateSize + ", image " + imageSize + ", patch "
                        + patchSize + ", channels " + numChannels);
            if (hiddenSize % numAttentionHeads != 0)
                throw new IllegalArgumentException("ViTModel.Config: hidden size " + hiddenSize + " is not a multiple of the number of heads " + numAttentionHeads);
            if (imageSize % patchSize != 0)
                throw new IllegalArgumentException("ViTModel.Config: image size " + imageSize + " is not a multiple of the patch size " + patchSize);
        }

        /** ViT-Base/16 at 224 x 224 (google/vit-base-patch16-224). */
        public static Config base() {
            return new Config(768, 12, 12, 3072, Activation.GELU, 0, 0, 0.02, 1e-12, 224, 16, 3, true);
        }

        public int numPatches() {
            return (imageSize / patchSize) * (imageSize / patchSize);
        }
    }

    public final Config config;
    public final Embeddings embeddings;
    public final ModuleList<Layer> layers;
    public final LayerNorm layernorm;
    public final BertModel.Pooler pooler; // null without a pooling layer; ViTPooler is BERT's

    public ViTModel(Config c, boolean addPoolingLayer, Random4j rng) {
        this.config = c;
        embeddings = register("embeddings", new Embeddings(c, rng));
        Encoder encoder = register("encoder", new Encoder());
        layers = encoder.layer;
        for (int i = 0; i < c.numHiddenLayers(); i++) layers.add(new Layer(c, rng));
        layernorm = register("layernorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        pooler = addPoolingLayer ? register("pooler", new BertModel.Pooler(c.hiddenSize(), rng)) : null;
        // ViT's _init_weights: truncated normal would differ only in the tails; N(0, 0.02^2) weights, zero biases
        apply(m -> {
            if (m instanceof Linear l) {
                Init.normal_(l.weight.data(), 0, c.initializerRange(), rng);
                if (l.bias != null) Init.zeros_(l.bias.data());
            }
        });
    }

    /** {@code from_pretrained}: a Hugging Face model folder (config.json, model.safetensors or shards), in eval mode; see {@link HfModels}. */
    public static ViTModel fromPretrained(java.nio.file.Path dir) {
        return HfModels.vitModel(dir);
    }

    /** {@code save_pretrained}: config.json and model.safetensors that transformers loads. */
    public void savePretrained(java.nio.file.Path dir) {
        HfModels.savePretrained(this, dir, null);
    }


    /** pixelValues (B, C, S, S), already normalised by the image processor -> last hidden state (B, 1 + N, d) and the rest. */
    public ModelOutput forward(Tensor pixelValues, ModelOutput.Want want) {
        Tensor x = embeddings.forward(pixelValues);
        List<Tensor> hidden = want.hiddenStates() ? new ArrayList<>(List.of(x)) : null;
        List<Tensor> attentions = want.attentions() ? new ArrayList<>() : null;
        for (Layer l : layers) {
            Attention a = l.forward(x, want.attentions());
            x = a.output();
            if (hidden != null) hidden.add(x);
            if (attentions != null) attentions.add(a.weights());
        }
        x = layernorm.forward(x);
        return new ModelOutput(x, pooler == null ? null : pooler.forward(x), hidden, attentions, null);
    }

    /** {@code ViTEmbeddings}: class token, patch projection, learned positions, dropout. */
    public static class Embeddings extends Module {
        public final Parameter clsToken, positionEmbeddings;
        public final PatchEmbeddings patchEmbeddings;
        public final Dropout dropout;
        private final Config c;

        Embeddings(Config c, Random4j rng) {
            this.c = c;
            clsToken = param("cls_token", Init.normal_(Tensor.zeros(1, 1, c.hiddenSize()), 0, c.initializerRange(), rng));
            positionEmbeddings = param("position_embeddings", Init.normal_(Tensor.zeros(1, c.numPatches() + 1, c.hiddenSize()), 0, c.initializerRange(), rng));
            patchEmbeddings = register("patch_embeddings", new PatchEmbeddings(c, rng));
            dropout = register("dropout", new Dropout(c.hiddenDropoutProb(), rng));
        }

        public Tensor forward(Tensor pixelValues) {
            int[] s = pixelValues.shape();
            if (s.length != 4 || s[1] != c.numChannels() || s[2] != c.imageSize() || s[3] != c.imageSize())
                throw new IllegalArgumentException("ViTModel: expected pixel_values (B, " + c.numChannels() + ", " + c.imageSize() + ", "
                        + c.imageSize() + "), got " + Arrays.toString(s) + " (resize the images with the model's image processor)");
            Tensor p = patchEmbeddings.forward(pixelValues); // (B, N, d)
            Tensor x = Tensor.cat(List.of(clsToken.data().expand(s[0], 1, c.hiddenSize()), p), 1);
            return dropout.forward(x.add(positionEmbeddings.data()));
        }
    }

    /** {@code ViTPatchEmbeddings}: Conv2d(C, d, P, stride P) -> (B, N, d). */
    public static class PatchEmbeddings extends Module {
        public final Conv2d projection;

        PatchEmbeddings(Config c, Random4j rng) {
            projection = register("projection", new Conv2d(c.numChannels(), c.hiddenSize(), c.patchSize(), c.patchSize(), 0, true, rng));
        }

        public Tensor forward(Tensor pixelValues) {
            return projection.forward(pixelValues).flatten(2, 3).transpose(1, 2);
        }
    }

    /** {@code ViTEncoder}: {@code layer.0}, {@code layer.1}, ... */
    static class Encoder extends Module {
        final ModuleList<Layer> layer = register("layer", new ModuleList<>());
    }

    /** {@code ViTLayer}: pre-norm attention and MLP. */
    public static class Layer extends Module {
        public final AttentionBlock attention;
        public final Linear intermediateDense, outputDense;
        public final LayerNorm layernormBefore, layernormAfter;
        private final Activation act;
        private final Dropout dropout;

        Layer(Config c, Random4j rng) {
            int d = c.hiddenSize();
            attention = register("attention", new AttentionBlock(c, rng));
            intermediateDense = register("intermediate", new Wrapper()).register("dense", new Linear(d, c.intermediateSize(), true, rng));
            outputDense = register("output", new Wrapper()).register("dense", new Linear(c.intermediateSize(), d, true, rng));
            layernormBefore = register("layernorm_before", new LayerNorm(d, c.layerNormEps()));
            layernormAfter = register("layernorm_after", new LayerNorm(d, c.layerNormEps()));
            act = c.hiddenAct();
            dropout = new Dropout(c.hiddenDropoutProb(), rng);
        }

        /** x (B, T, d) -> the layer's output and, on request, its attention weights (B, H, T, T). */
        public Attention forward(Tensor x, boolean needWeights) {
            Attention a = attention.forward(layernormBefore.forward(x), needWeights);
            Tensor h = x.add(a.output());
            Tensor m = dropout.forward(outputDense.forward(act.apply(intermediateDense.forward(layernormAfter.forward(h)))));
            return new Attention(h.add(m), a.weights());
        }
    }

    /** A module that only names its children ({@code intermediate.dense}, {@code output.dense}). */
    static class Wrapper extends Module {
        @Override
        public <M extends Module> M register(String name, M child) {
            return super.register(name, child);
        }
    }

    /** {@code ViTAttention}: {@code attention} (query, key, value) then {@code output.dense}. */
    public static class AttentionBlock extends Module {
        public final Linear query, key, value, dense;
        private final Dropout outDropout;
        private final int heads;
        private final Random4j rng;
        private final double attnP;

        AttentionBlock(Config c, Random4j rng) {
            int d = c.hiddenSize();
            Wrapper self = register("attention", new Wrapper());
            query = self.register("query", new Linear(d, d, c.qkvBias(), rng));
            key = self.register("key", new Linear(d, d, c.qkvBias(), rng));
            value = self.register("value", new Linear(d, d, c.qkvBias(), rng));
            dense = register("output", new Wrapper()).register("dense", new Linear(d, d, true, rng));
            heads = c.numAttentionHeads();
            attnP = c.attentionProbsDropoutProb();
            outDropout = new Dropout(c.hiddenDropoutProb(), rng);
            this.rng = rng;
        }

        public Attention forward(Tensor x, boolean needWeights) {
            int b = x.size(0), l = x.size(1), d = x.size(2), e = d / heads;
            Tensor q = query.forward(x).view(b, l, heads, e).transpose(1, 2);
            Tensor k = key.forward(x).view(b, l, heads, e).transpose(1, 2);
            Tensor v = value.forward(x).view(b, l, heads, e).transpose(1, 2);
            Attention a = F.scaledDotProductAttention(q, k, v, new SdpaOptions(null, null, false, isTraining() ? attnP : 0, null, rng, needWeights));
            return new Attention(outDropout.forward(dense.forward(a.output().transpose(1, 2).reshape(b, l, d))), a.weights());
        }
    }
}
