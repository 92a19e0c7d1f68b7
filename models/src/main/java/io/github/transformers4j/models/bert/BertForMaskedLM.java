package io.github.transformers4j.models.bert;

import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * Hugging Face's {@code BertForMaskedLM}: {@code bert} (no pooler) and the masked-language-model head
 * {@code cls.predictions}: {@code transform} (dense, activation, LayerNorm), then a decoder whose weight is the word-
 * embedding table (tied, not stored twice) plus {@code cls.predictions.bias}. Logits (B, L, vocab).
 */
public class BertForMaskedLM extends Module {
    public final BertModel bert;
    public final Cls cls;

    public BertForMaskedLM(BertConfig c, Random4j rng) {
        if (c.vocabSize() == 0) throw new IllegalArgumentException("BertForMaskedLM needs a vocabulary (vocabSize > 0)");
        bert = register("bert", new BertModel(c, false, rng));
        cls = register("cls", new Cls(c, rng));
        BertModel.initWeights(cls, c.initializerRange(), rng);
    }

    /** {@code from_pretrained}: a Hugging Face model folder (config.json, model.safetensors or shards), in eval mode; see {@link HfModels}. */
    public static BertForMaskedLM fromPretrained(java.nio.file.Path dir) {
        return HfModels.bertForMaskedLM(dir);
    }

    /** {@code save_pretrained}: config.json and model.safetensors that transformers loads. */
    public void savePretrained(java.nio.file.Path dir) {
        HfModels.savePretrained(this, dir, null);
    }


    /** As {@link BertModel#forward(Tensor, Tensor, Tensor, ModelOutput.Want)}, with logits (B, L, vocab). */
    public ModelOutput forward(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds, ModelOutput.Want want) {
        ModelOutput o = bert.forward(inputIds, attentionMask, tokenTypeIds, want);
        Cls.Predictions p = cls.predictions;
        return o.withLogits(F.linear(p.transform.forward(o.lastHiddenState()), bert.embeddings.wordEmbeddings.weight.data(), p.bias.data()));
    }

    /** {@code BertOnlyMLMHead}. */
    public static class Cls extends Module {
        public final Predictions predictions;

        Cls(BertConfig c, Random4j rng) {
            predictions = register("predictions", new Predictions(c, rng));
        }

        /** {@code BertLMPredictionHead}: transform, then the tied decoder with its own bias (vocab). */
        public static class Predictions extends Module {
            public final Transform transform;
            public final Parameter bias;

            Predictions(BertConfig c, Random4j rng) {
                transform = register("transform", new Transform(c, rng));
                bias = param("bias", Tensor.zeros(c.vocabSize()));
            }
        }

        /** {@code BertPredictionHeadTransform}: LayerNorm(act(dense(h))). */
        public static class Transform extends Module {
            public final Linear dense;
            public final LayerNorm layerNorm;
            private final io.github.transformers4j.nn.Activation act;

            Transform(BertConfig c, Random4j rng) {
                dense = register("dense", new Linear(c.hiddenSize(), c.hiddenSize(), true, rng));
                layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
                act = c.hiddenAct();
            }

            public Tensor forward(Tensor h) {
                return layerNorm.forward(act.apply(dense.forward(h)));
            }
        }
    }
}
