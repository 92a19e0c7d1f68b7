package io.github.transformers4j.models.hf;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.bert.BertConfig;
import io.github.transformers4j.models.bert.BertForSequenceClassification;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * A Hugging Face BERT sequence classifier as one of the trainer's models ({@code --model hf:DIR} on a text data set). The
 * trainer drives classifiers through one input tensor: here the token ids (B, L), padded with the config's
 * {@code pad_token_id}, which also gives the attention mask. Keys stay Hugging Face's ({@code bert.*},
 * {@code classifier.*}).
 */
public final class HfTextClassifier extends ImageClassifier {
    public final Path source;
    public final BertModel bert;
    public final Dropout dropout;
    public final Linear classifier;
    private final BertForSequenceClassification hf;

    /** The architecture of {@code dir}'s config.json with a new head of {@code numClasses}; no weights read yet. */
    public HfTextClassifier(Path dir, int numClasses, Random4j rng) {
        this.source = dir;
        HfCheckpoint c = HfCheckpoint.open(dir);
        Double classifierDropout = c.config.hasNonNull("classifier_dropout") ? c.number("classifier_dropout", 0) : null;
        hf = new BertForSequenceClassification(HfModels.bertConfig(c), IntStream.range(0, numClasses).mapToObj(i -> "LABEL_" + i).toList(),
                classifierDropout, rng);
        bert = register("bert", hf.bert);
        dropout = register("dropout", hf.dropout);
        classifier = register("classifier", hf.classifier);
    }

    public BertConfig bertConfig() {
        return bert.config;
    }

    /** Loads the pretrained weights of {@link #source} except the classifier; returns what was left as initialised. */
    public List<String> loadPretrained() {
        HfCheckpoint c = HfCheckpoint.open(source);
        return c.loadInto(this, c.weights(), "bert.", Set.of(), Set.of("classifier.", "bert.pooler."), true).newlyInitialized();
    }

    /**
     * ids (B, L) I64 padded with pad_token_id, or for sentence pairs ids and token type ids stacked (B, 2, L) -> logits
     * (B, classes).
     */
    @Override
    public Tensor forward(Tensor input) {
        Tensor ids = input.dim() == 3 ? input.select(1, 0).contiguous() : input, types = input.dim() == 3 ? input.select(1, 1).contiguous() : null;
        Tensor mask = ids.ne(bert.config.padTokenId());
        return hf.forward(ids, mask, types, ModelOutput.Want.NONE).logits();
    }

    @Override
    public int numClasses() {
        return classifier.weight.shape()[0];
    }

    @Override
    public Record config() {
        return bert.config;
    }

    /** Writes this model as a transformers {@code BertForSequenceClassification} folder with these class names. */
    public void savePretrained(Path dir, List<String> labels) {
        if (labels.size() != numClasses())
            throw new IllegalArgumentException("savePretrained: " + labels.size() + " labels for " + numClasses() + " classes");
        HfModels.write(this, dir, HfModels.bertConfigJson(bert.config, "BertForSequenceClassification", labels), source); // bert.*, classifier.*
    }
}
