package io.github.transformers4j.models.vit;

import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * Hugging Face's {@code ViTForImageClassification}: {@code vit} (a {@link ViTModel} without pooler) and
 * {@code classifier} on the final layer-normed class token. Logits (B, labels).
 */
public class ViTForImageClassification extends Module {
    public final ViTModel vit;
    public final Linear classifier;
    /** The class names, index = label id (HF's {@code id2label}). */
    public final List<String> labels;

    public ViTForImageClassification(ViTModel.Config c, List<String> labels, Random4j rng) {
        if (labels.isEmpty()) throw new IllegalArgumentException("ViTForImageClassification: no labels");
        this.labels = List.copyOf(labels);
        vit = register("vit", new ViTModel(c, false, rng));
        classifier = register("classifier", new Linear(c.hiddenSize(), labels.size(), true, rng));
        Init.normal_(classifier.weight.data(), 0, c.initializerRange(), rng);
        Init.zeros_(classifier.bias.data());
    }

    /** {@code from_pretrained}: a Hugging Face model folder (config.json, model.safetensors or shards), in eval mode; see {@link HfModels}. */
    public static ViTForImageClassification fromPretrained(java.nio.file.Path dir) {
        return HfModels.vitForImageClassification(dir, null);
    }

    /** {@code save_pretrained}: config.json and model.safetensors that transformers loads. */
    public void savePretrained(java.nio.file.Path dir) {
        HfModels.savePretrained(this, dir, null);
    }


    /** pixelValues (B, C, S, S) normalised by the image processor. */
    public ModelOutput forward(Tensor pixelValues, ModelOutput.Want want) {
        ModelOutput o = vit.forward(pixelValues, want);
        return o.withLogits(classifier.forward(o.lastHiddenState().select(1, 0)));
    }
}
