package io.github.transformers4j.models.bert;

import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.Embedding;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.SdpaOptions;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * BERT's encoder with Hugging Face's module structure and state-dict keys ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.i.attention.self.query.weight}, {@code pooler.dense.weight}), so a transformers checkpoint loads
 * key for key:
 * <pre>
 * embeddings: word_embeddings[ids] + position_embeddings[0..L) + token_type_embeddings[types] -> LayerNorm -> dropout
 * encoder.layer.i:                                                                     (post-norm, as BERT)
 *   attention.self  {query, key, value}: softmax(q k^T / sqrt(E) + mask) -> dropout -> @ v
 *   attention.output {dense, LayerNorm}: h = LayerNorm(dropout(dense(a)) + x)
 *   intermediate.dense + act, output {dense, LayerNorm}: y = LayerNorm(dropout(dense(i)) + h)
 * pooler: tanh(dense(y[:, 0]))                                                         (optional)
 * </pre>
 * With {@code vocabSize} 0 the model is fed embeddings ({@link #forward(Tensor)}, as the BERT blocks of a
 * {@link io.github.transformers4j.models.vit.VisionTransformer}) and has no word table. Linear and Embedding weights
 * start N(0, 0.02^2), biases 0, as BERT's {@code _init_weights}.
 */
public class BertModel extends Module {
    public final BertConfig config;
    public final Embeddings embeddings;
    public final Encoder encoder;
    public final Pooler pooler; // null without a pooling layer

    /** Without a pooler. */
    public BertModel(BertConfig c, Random4j rng) {
        this(c, false, rng);
    }

    /** {@code from_pretrained}: a Hugging Face model folder (config.json, model.safetensors or shards), in eval mode; see {@link HfModels}. */
    public static BertModel fromPretrained(java.nio.file.Path dir) {
        return HfModels.bertModel(dir);
    }

    /** {@code save_pretrained}: config.json and model.safetensors that transformers loads. */
    public void savePretrained(java.nio.file.Path dir) {
        HfModels.savePretrained(this, dir, null);
    }


    public BertModel(BertConfig c, boolean addPoolingLayer, Random4j rng) {
        this.config = c;
        embeddings = register("embeddings", new Embeddings(c, rng));
        encoder = register("encoder", new Encoder(c, rng));
        pooler = addPoolingLayer ? register("pooler", new Pooler(c.hiddenSize(), rng)) : null;
        initWeights(this, c.initializerRange(), rng);
    }

    /** BERT's {@code _init_weights} on every Linear and Embedding under {@code m}. */
    static void initWeights(Module m, double std, Random4j rng) {
        m.apply(x -> {
            if (x instanceof Linear l) {
                Init.normal_(l.weight.data(), 0, std, rng);
                if (l.bias != null) Init.zeros_(l.bias.data());
            } else if (x instanceof Embedding e) {
                Init.normal_(e.weight.data(), 0, std, rng);
                if (e.paddingIdx >= 0) {
                    try (var g = Grad.disabled()) {
                        e.weight.data().narrow(0, e.paddingIdx, 1).zero_();
                    }
                }
            }
        });
    }

    /** The last hidden state (B, L, d) for inputs_embeds (B, L, d), L <= maxPositionEmbeddings, all token types 0. */
    public Tensor forward(Tensor inputsEmbeds) {
        return encoder.forward(embeddings.forward(null, inputsEmbeds, null), null, ModelOutput.Want.NONE).lastHiddenState();
    }

    /**
     * {@code BertModel(input_ids, attention_mask, token_type_ids)}.
     *
     * @param inputIds      I64 (B, L)
     * @param attentionMask (B, L), 1 = token, 0 = padding (any dtype), or null for none
     * @param tokenTypeIds  I64 (B, L), or null for all 0
     */
    public ModelOutput forward(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds, ModelOutput.Want want) {
        ModelOutput o = encoder.forward(embeddings.forward(inputIds, null, tokenTypeIds), paddingMask(attentionMask, inputIds), want);
        Tensor pooled = pooler == null ? null : pooler.forward(o.lastHiddenState());
        return new ModelOutput(o.lastHiddenState(), pooled, o.hiddenStates(), o.attentions(), null);
    }

    /** HF's attention_mask (1 = token) as a key-padding mask (BOOL, true = padding), or null. */
    public static Tensor paddingMask(Tensor attentionMask, Tensor inputIds) {
        if (attentionMask == null) return null;
        if (!Arrays.equals(attentionMask.shape(), inputIds.shape()))
            throw new IllegalArgumentException("attention_mask " + Arrays.toString(attentionMask.shape()) + " does not match input_ids "
                    + Arrays.toString(inputIds.shape()));
        return attentionMask.dtype() == DType.BOOL ? attentionMask.logicalNot() : attentionMask.eq(0);
    }

    /** {@code BertEmbeddings}: words (or given embeddings) + positions + token types, LayerNorm, dropout. */
    public static class Embeddings extends Module {
        public final Embedding wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings; // word / type null when their size is 0
        public final LayerNorm layerNorm;
        public final Dropout dropout;

        Embeddings(BertConfig c, Random4j rng) {
            wordEmbeddings = c.vocabSize() == 0 ? null
                    : register("word_embeddings", new Embedding(c.vocabSize(), c.hiddenSize(), c.padTokenId(), rng));
            positionEmbeddings = register("position_embeddings", new Embedding(c.maxPositionEmbeddings(), c.hiddenSize(), null, rng));
            tokenTypeEmbeddings = c.typeVocabSize() == 0 ? null
                    : register("token_type_embeddings", new Embedding(c.typeVocabSize(), c.hiddenSize(), null, rng));
            layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
            dropout = register("dropout", new Dropout(c.hiddenDropoutProb(), rng));
        }

        /** Exactly one of inputIds (B, L) and inputsEmbeds (B, L, d); tokenTypeIds (B, L) or null for all 0. */
        public Tensor forward(Tensor inputIds, Tensor inputsEmbeds, Tensor tokenTypeIds) {
            int max = positionEmbeddings.numEmbeddings, d = positionEmbeddings.embeddingDim;
            Tensor x;
            if (inputIds != null) {
                if (wordEmbeddings == null) throw new IllegalStateException("BertEmbeddings: this model has no word embeddings (vocab size 0)");
                if (inputIds.dim() != 2 || inputIds.size(1) > max)
                    throw new IllegalArgumentException("BertEmbeddings: expected input_ids (B, L <= " + max + "), got " + Arrays.toString(inputIds.shape()));
                x = wordEmbeddings.forward(inputIds);
            } else {
                int[] s = inputsEmbeds.shape();
                if (s.length != 3 || s[2] != d || s[1] > max)
                    throw new IllegalArgumentException("BertEmbeddings: expected inputs_embeds (B, L <= " + max + ", " + d + "), got " + Arrays.toString(s));
                x = inputsEmbeds;
            }
            x = x.add(positionEmbeddings.weight.data().narrow(0, 0, x.size(1))); // (L, d) broadcast over B
            if (tokenTypeEmbeddings != null) {
                x = tokenTypeIds == null ? x.add(tokenTypeEmbeddings.weight.data().select(0, 0)) : x.add(tokenTypeEmbeddings.forward(tokenTypeIds));
            } else if (tokenTypeIds != null) {
                throw new IllegalArgumentException("BertEmbeddings: token_type_ids given, but this model has no token-type embeddings");
            }
            return dropout.forward(layerNorm.forward(x));
        }
    }

    /** {@code BertEncoder}: {@code layer.0}, {@code layer.1}, ... */
    public static class Encoder extends Module {
        public final ModuleList<Layer> layer;

        Encoder(BertConfig c, Random4j rng) {
            layer = register("layer", new ModuleList<>());
            for (int i = 0; i < c.numHiddenLayers(); i++) layer.add(new Layer(c, rng));
        }

        /** x (B, L, d), padding BOOL (B, L) true = padding or null. */
        public ModelOutput forward(Tensor x, Tensor padding, ModelOutput.Want want) {
            List<Tensor> hidden = want.hiddenStates() ? new ArrayList<>(List.of(x)) : null;
            List<Tensor> attentions = want.attentions() ? new ArrayList<>() : null;
            for (Layer l : layer) {
                Attention a = l.forward(x, padding, want.attentions());
                x = a.output();
                if (hidden != null) hidden.add(x);
                if (attentions != null) attentions.add(a.weights());
            }
            return new ModelOutput(x, null, hidden, attentions, null);
        }
    }

    /** {@code BertLayer}: attention (self + output), intermediate, output. */
    public static class Layer extends Module {
        public final AttentionBlock attention;
        public final Intermediate intermediate;
        public final Output output;

        Layer(BertConfig c, Random4j rng) {
            attention = register("attention", new AttentionBlock(c, rng));
            intermediate = register("intermediate", new Intermediate(c, rng));
            output = register("output", new Output(c, c.intermediateSize(), rng));
        }

        /**
         * Stochastic depth on both residual branches while training (not in Hugging Face's BERT; for the BERT blocks of a
         * ViT): each sample's branch dropped with probability p before its residual add, the kept ones scaled by
         * 1 / (1 - p) ({@code F.dropPath}). Returns this.
         */
        public Layer dropPath(double p) {
            attention.output.dropPath(p);
            output.dropPath(p);
            return this;
        }

        public double dropPath() {
            return output.dropPath;
        }

        /** x (B, L, d), padding BOOL (B, L) or null -> the layer's output (B, L, d) and, on request, its attention weights. */
        public Attention forward(Tensor x, Tensor padding, boolean needWeights) {
            Attention a = attention.self.forward(x, padding, needWeights);
            Tensor h = attention.output.forward(a.output(), x);
            return new Attention(output.forward(intermediate.forward(h), h), a.weights());
        }
    }

    /** {@code BertAttention} (its module is named {@code attention}): {@code self} then {@code output}. */
    public static class AttentionBlock extends Module {
        public final SelfAttention self;
        public final Output output;

        AttentionBlock(BertConfig c, Random4j rng) {
            self = register("self", new SelfAttention(c, rng));
            output = register("output", new Output(c, c.hiddenSize(), rng));
        }
    }

    /** {@code BertSelfAttention}: separate query, key and value projections, scaled dot-product attention per head. */
    public static class SelfAttention extends Module {
        public final int heads;
        public final double attentionDropout;
        public final Linear query, key, value;
        private final Random4j rng;

        SelfAttention(BertConfig c, Random4j rng) {
            this.heads = c.numAttentionHeads();
            this.attentionDropout = c.attentionProbsDropoutProb();
            this.rng = rng;
            int d = c.hiddenSize();
            query = register("query", new Linear(d, d, true, rng));
            key = register("key", new Linear(d, d, true, rng));
            value = register("value", new Linear(d, d, true, rng));
        }

        /** x (B, L, d), padding BOOL (B, L) or null -> context (B, L, d) (heads concatenated) and, on request, weights (B, H, L, L). */
        public Attention forward(Tensor x, Tensor padding, boolean needWeights) {
            // the three projections as one product (weights side by side, columns q | k | v); F picks the attention kernel
            Tensor w = Tensor.cat(List.of(query.weight.data(), key.weight.data(), value.weight.data()), 0);
            Tensor bias = Tensor.cat(List.of(query.bias.data(), key.bias.data(), value.bias.data()), 0);
            return F.multiHeadAttention(F.linear(x, w, bias), null, heads,
                    new SdpaOptions(null, padding, false, isTraining() ? attentionDropout : 0, null, rng, needWeights));
        }
    }

    /** {@code BertSelfOutput} / {@code BertOutput}: LayerNorm(dropout(dense(h)) + residual). */
    public static class Output extends Module {
        public final Linear dense;
        public final LayerNorm layerNorm;
        public final Dropout dropout;
        private final Random4j rng;
        private double dropPath;

        Output(BertConfig c, int in, Random4j rng) {
            dense = register("dense", new Linear(in, c.hiddenSize(), true, rng));
            layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
            dropout = register("dropout", new Dropout(c.hiddenDropoutProb(), rng));
            this.rng = rng;
        }

        void dropPath(double p) {
            if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("BERT layer: drop path must be in [0, 1], got " + p);
            dropPath = p;
        }

        public Tensor forward(Tensor h, Tensor residual) {
            return layerNorm.forward(F.dropPath(dropout.forward(dense.forward(h)), dropPath, isTraining(), rng).add(residual));
        }
    }

    /** {@code BertIntermediate}: dense then the activation. */
    public static class Intermediate extends Module {
        public final Linear dense;
        private final io.github.transformers4j.nn.Activation act;

        Intermediate(BertConfig c, Random4j rng) {
            dense = register("dense", new Linear(c.hiddenSize(), c.intermediateSize(), true, rng));
            act = c.hiddenAct();
        }

        public Tensor forward(Tensor x) {
            return act.apply(dense.forward(x));
        }
    }

    /** {@code BertPooler} (ViT's {@code ViTPooler} is the same): tanh(dense(first token)). */
    public static class Pooler extends Module {
        public final Linear dense;

        public Pooler(int d, Random4j rng) {
            dense = register("dense", new Linear(d, d, true, rng));
        }

        /** (B, L, d) -> (B, d). */
        public Tensor forward(Tensor hidden) {
            return dense.forward(hidden.select(1, 0)).tanh();
        }
    }
}
