package io.github.transformers4j.models.bert;

import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * Hugging Face's {@code BertForSequenceClassification}: {@code bert} (with its pooler), dropout, {@code classifier}
 * (d -> labels) on the pooled first token. Logits (B, labels).
 */
public class BertForSequenceClassification extends Module {
    public final BertModel bert;
    public final Dropout dropout;
    public final Linear classifier;
    /** The class names, index = label id (HF's {@code id2label}). */
    public final List<String> labels;

    /** classifierDropout: HF's {@code classifier_dropout}, or null for the hidden dropout. */
    public BertForSequenceClassification(BertConfig c, List<String> labels, Double classifierDropout, Random4j rng) {
        if (labels.isEmpty()) throw new IllegalArgumentException("BertForSequenceClassification: no labels");
        this.labels = List.copyOf(labels);
        bert = register("bert", new BertModel(c, true, rng));
        dropout = register("dropout", new Dropout(classifierDropout != null ? classifierDropout : c.hiddenDropoutProb(), rng));
        classifier = register("classifier", new Linear(c.hiddenSize(), labels.size(), true, rng));
        BertModel.initWeights(classifier, c.initializerRange(), rng);
    }

    /** {@code from_pretrained}: a Hugging Face model folder (config.json, model.safetensors or shards), in eval mode; see {@link HfModels}. */
    public static BertForSequenceClassification fromPretrained(java.nio.file.Path dir) {
        return HfModels.bertForSequenceClassification(dir, null);
    }

    /** {@code save_pretrained}: config.json and model.safetensors that transformers loads. */
    public void savePretrained(java.nio.file.Path dir) {
        HfModels.savePretrained(this, dir, null);
    }


    public ModelOutput forward(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds, ModelOutput.Want want) {
        ModelOutput o = bert.forward(inputIds, attentionMask, tokenTypeIds, want);
        return o.withLogits(classifier.forward(dropout.forward(o.poolerOutput())));
    }
}
