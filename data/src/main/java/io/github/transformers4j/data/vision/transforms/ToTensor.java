package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/** Scales uint8-range pixels 0..255 to 0..1 (torchvision ToTensor; the layout is already CHW). */
public record ToTensor() implements Transform<Image, Image> {
    @Override
    public Image apply(Image image, SampleRng rng) {
        float[] in = image.pixels();
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) out[i] = in[i] / 255f;
        return new Image(out, image.channels(), image.height(), image.width());
    }
}
