package io.github.transformers4j.models;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Tensor;

/** A model that maps images (B, C, H, W) to class logits (B, numClasses): what the trainer drives. */
public abstract class ImageClassifier extends Module {
    /** Logits (B, numClasses) for images (B, C, H, W). */
    public abstract Tensor forward(Tensor images);

    public abstract int numClasses();

    /** The record that defines this model's shape (written into config.json and checkpoints); null if it has none. */
    public Record config() {
        return null;
    }
}
