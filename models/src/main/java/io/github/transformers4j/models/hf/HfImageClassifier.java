package io.github.transformers4j.models.hf;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.vit.ViTForImageClassification;
import io.github.transformers4j.models.vit.ViTModel;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * A Hugging Face ViT image classifier as one of the trainer's models ({@code --model hf:DIR}): the architecture comes
 * from DIR's config.json, the classifier has one output per class of the data set, and the keys stay Hugging Face's
 * ({@code vit.*}, {@code classifier.*}), so a run's checkpoint exports as a {@code save_pretrained} folder. Grey images
 * are repeated to the model's three channels, as {@code convert("RGB")} does.
 */
public final class HfImageClassifier extends ImageClassifier {
    public static final String PREFIX = "hf:";

    public final Path source;
    public final ViTModel vit;
    public final Linear classifier;
    private final ViTForImageClassification hf;

    /** The architecture of {@code dir}'s config.json with a new, initialised head of {@code numClasses}; no weights read yet. */
    public HfImageClassifier(Path dir, int numClasses, Random4j rng) {
        this.source = dir;
        ViTModel.Config c = HfModels.vitConfig(HfCheckpoint.open(dir));
        hf = new ViTForImageClassification(c, IntStream.range(0, numClasses).mapToObj(i -> "LABEL_" + i).toList(), rng);
        vit = register("vit", hf.vit);
        classifier = register("classifier", hf.classifier);
    }

    /** {@code hf:DIR} -> DIR, or null for other model names. */
    public static Path folder(String modelName) {
        return modelName != null && modelName.startsWith(PREFIX) ? Path.of(modelName.substring(PREFIX.length())) : null;
    }

    public ViTModel.Config vitConfig() {
        return vit.config;
    }

    /** Loads the pretrained weights of {@link #source} except the classifier (a new head); returns what was left as initialised. */
    public List<String> loadPretrained() {
        HfCheckpoint c = HfCheckpoint.open(source);
        return c.loadInto(this, c.weights(), "vit.", Set.of(), Set.of("classifier."), true).newlyInitialized();
    }

    @Override
    public Tensor forward(Tensor images) {
        int channels = vit.config.numChannels();
        if (images.size(1) == 1 && channels != 1) images = images.expand(images.size(0), channels, images.size(2), images.size(3));
        return hf.forward(images, ModelOutput.Want.NONE).logits();
    }

    @Override
    public int numClasses() {
        return classifier.weight.shape()[0];
    }

    @Override
    public Record config() {
        return vit.config;
    }

    /** Writes this model as a transformers {@code ViTForImageClassification} folder with these class names. */
    public void savePretrained(Path dir, List<String> labels) {
        if (labels.size() != numClasses())
            throw new IllegalArgumentException("savePretrained: " + labels.size() + " labels for " + numClasses() + " classes");
        HfModels.write(this, dir, HfModels.vitConfigJson(vit.config, "ViTForImageClassification", labels), source); // keys: vit.*, classifier.*
    }
}
