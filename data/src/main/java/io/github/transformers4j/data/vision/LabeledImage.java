package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;

/** An image with its class index: the sample type of every image-classification dataset. */
public record LabeledImage(Image image, int label) {
    /** Lifts an image transform to labelled samples; the label passes through. */
    public static Transform<LabeledImage, LabeledImage> onImage(Transform<? super Image, ? extends Image> t) {
        return (LabeledImage s, SampleRng rng) -> new LabeledImage(t.apply(s.image(), rng), s.label());
    }
}
