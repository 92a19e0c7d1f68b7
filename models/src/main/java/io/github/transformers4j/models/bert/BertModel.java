package io.github.transformers4j.models.bert;

import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.Embedding;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * A BERT encoder fed with embeddings ({@code BertModel(inputs_embeds=...)}), with Hugging Face's module structure and
 * state-dict keys, so that {@code embeddings.*} and {@code encoder.layer.i.*} load from a transformers checkpoint:
 * <pre>
 * embeddings: inputs_embeds (B, L, d) + position_embeddings[0..L) -> LayerNorm -> dropout
 * encoder.layer.i:
 *   attention.self  {query, key, value}: softmax(q k^T / sqrt(E)) -> dropout -> @ v           (post-norm, as BERT)
 *   attention.output {dense, LayerNorm}: h = LayerNorm(dropout(dense(a)) + x)
 *   intermediate.dense + GELU (erf), output {dense, LayerNorm}: y = LayerNorm(dropout(dense(i)) + h)
 * </pre>
 * Left out, because a model fed with embeddings never reads them: {@code embeddings.word_embeddings} and the pooler.
 * {@code embeddings.token_type_embeddings} is left out too: with all token types 0 it adds the same learned vector to
 * every position, which {@code position_embeddings} already represents (add row 0 of a checkpoint's token-type table to
 * every position row when importing one). Linear and Embedding weights start N(0, 0.02^2), biases 0, as BERT's
 * {@code _init_weights}.
 */
public class BertModel extends Module {
    public final BertConfig config;
    public final Embeddings embeddings;
    public final Encoder encoder;

    public BertModel(BertConfig c, Random4j rng) {
        this.config = c;
        embeddings = register("embeddings", new Embeddings(c, rng));
        encoder = register("encoder", new Encoder(c, rng));
        apply(m -> {
            if (m instanceof Linear l) {
                Init.normal_(l.weight.data(), 0, c.initializerRange(), rng);
                if (l.bias != null) Init.zeros_(l.bias.data());
            } else if (m instanceof Embedding e) {
                Init.normal_(e.weight.data(), 0, c.initializerRange(), rng);
            }
        });
    }

    /** The last hidden state (B, L, d) for inputs_embeds (B, L, d), L <= maxPositionEmbeddings. */
    public Tensor forward(Tensor inputsEmbeds) {
        return encoder.forward(embeddings.forward(inputsEmbeds));
    }

    /** {@code BertEmbeddings} for inputs_embeds: positions, LayerNorm, dropout. */
    public static class Embeddings extends Module {
        public final Embedding positionEmbeddings;
        public final LayerNorm layerNorm;
        public final Dropout dropout;

        Embeddings(BertConfig c, Random4j rng) {
            positionEmbeddings = register("position_embeddings", new Embedding(c.maxPositionEmbeddings(), c.hiddenSize(), null, rng));
            layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
            dropout = register("dropout", new Dropout(c.hiddenDropoutProb(), rng));
        }

        public Tensor forward(Tensor inputsEmbeds) {
            int[] s = inputsEmbeds.shape();
            int max = positionEmbeddings.numEmbeddings;
            if (s.length != 3 || s[2] != positionEmbeddings.embeddingDim || s[1] > max)
                throw new IllegalArgumentException("BertEmbeddings: expected inputs_embeds (B, L <= " + max + ", "
                        + positionEmbeddings.embeddingDim + "), got " + Arrays.toString(s));
            Tensor pos = positionEmbeddings.weight.data().narrow(0, 0, s[1]); // (L, d)
            return dropout.forward(layerNorm.forward(inputsEmbeds.add(pos)));
        }
    }

    /** {@code BertEncoder}: {@code layer.0}, {@code layer.1}, ... */
    public static class Encoder extends Module {
        public final ModuleList<Layer> layer;

        Encoder(BertConfig c, Random4j rng) {
            layer = register("layer", new ModuleList<>());
            for (int i = 0; i < c.numHiddenLayers(); i++) layer.add(new Layer(c, rng));
        }

        public Tensor forward(Tensor x) {
            for (Layer l : layer) x = l.forward(x);
            return x;
        }
    }

    /** {@code BertLayer}: attention (self + output), intermediate, output. */
    public static class Layer extends Module {
        public final Attention attention;
        public final Intermediate intermediate;
        public final Output output;

        Layer(BertConfig c, Random4j rng) {
            attention = register("attention", new Attention(c, rng));
            intermediate = register("intermediate", new Intermediate(c, rng));
            output = register("output", new Output(c, c.intermediateSize(), rng));
        }

        public Tensor forward(Tensor x) {
            Tensor h = attention.forward(x);
            return output.forward(intermediate.forward(h), h);
        }
    }

    /** {@code BertAttention}: {@code self} then {@code output}. */
    public static class Attention extends Module {
        public final SelfAttention self;
        public final Output output;

        Attention(BertConfig c, Random4j rng) {
            self = register("self", new SelfAttention(c, rng));
            output = register("output", new Output(c, c.hiddenSize(), rng));
        }

        public Tensor forward(Tensor x) {
            return output.forward(self.forward(x), x);
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

        /** (B, L, d) -> context (B, L, d), heads concatenated. */
        public Tensor forward(Tensor x) {
            int b = x.size(0), l = x.size(1), d = x.size(2), e = d / heads;
            Tensor q = query.forward(x).view(b, l, heads, e).transpose(1, 2);
            Tensor k = key.forward(x).view(b, l, heads, e).transpose(1, 2);
            Tensor v = value.forward(x).view(b, l, heads, e).transpose(1, 2);
            Tensor o = F.scaledDotProductAttention(q, k, v, null, null, false, isTraining() ? attentionDropout : 0, null, rng, false).output();
            return o.transpose(1, 2).reshape(b, l, d);
        }
    }

    /** {@code BertSelfOutput} / {@code BertOutput}: LayerNorm(dropout(dense(h)) + residual). */
    public static class Output extends Module {
        public final Linear dense;
        public final LayerNorm layerNorm;
        public final Dropout dropout;

        Output(BertConfig c, int in, Random4j rng) {
            dense = register("dense", new Linear(in, c.hiddenSize(), true, rng));
            layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
            dropout = register("dropout", new Dropout(c.hiddenDropoutProb(), rng));
        }

        public Tensor forward(Tensor h, Tensor residual) {
            return layerNorm.forward(dropout.forward(dense.forward(h)).add(residual));
        }
    }

    /** {@code BertIntermediate}: dense then GELU (erf). */
    public static class Intermediate extends Module {
        public final Linear dense;

        Intermediate(BertConfig c, Random4j rng) {
            dense = register("dense", new Linear(c.hiddenSize(), c.intermediateSize(), true, rng));
        }

        public Tensor forward(Tensor x) {
            return dense.forward(x).gelu();
        }
    }
}
