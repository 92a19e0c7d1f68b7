package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/** Repeats a 1-channel image into 3 equal channels; 3-channel images pass unchanged. */
public record GrayscaleToRgb() implements Transform<Image, Image> {
    @Override
    public Image apply(Image image, SampleRng rng) {
        if (image.channels() == 3) return image;
        if (image.channels() != 1)
            throw new IllegalArgumentException("GrayscaleToRgb: expected 1 or 3 channels, got " + image);
        float[] in = image.pixels();
        float[] out = new float[3 * in.length];
        for (int c = 0; c < 3; c++) System.arraycopy(in, 0, out, c * in.length, in.length);
        return new Image(out, 3, image.height(), image.width());
    }
}
