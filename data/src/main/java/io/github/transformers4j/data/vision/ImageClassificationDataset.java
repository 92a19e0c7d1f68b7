package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.Dataset;
import io.github.transformers4j.data.Transform;
import java.util.List;

/** A dataset of labelled images with named classes; label {@code i} is {@code classes().get(i)}. */
public interface ImageClassificationDataset extends Dataset<LabeledImage> {
    List<String> classes();

    default int numClasses() {
        return classes().size();
    }

    /** A short description for logs, e.g. {@code fashion-mnist train (60000 images 1x28x28, 10 classes)}. */
    String description();

    /**
     * The same dataset with an image transform, keeping class names: sample {@code i} of epoch {@code e}
     * is transformed with {@code SampleRng.of(seed, e, i)}.
     */
    default ImageClassificationDataset withTransform(Transform<? super Image, ? extends Image> transform, long seed) {
        ImageClassificationDataset source = this;
        Dataset<LabeledImage> mapped = Dataset.super.map(LabeledImage.onImage(transform), seed);
        return new ImageClassificationDataset() {
            @Override public List<String> classes() { return source.classes(); }
            @Override public String description() { return source.description() + " + " + transform; }
            @Override public int size() { return mapped.size(); }
            @Override public LabeledImage get(int index) { return mapped.get(index); }
            @Override public LabeledImage get(int index, int epoch) { return mapped.get(index, epoch); }
            @Override public String toString() { return description(); }
        };
    }
}
