package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/** Mirrors the image left-right with probability {@code p} (one draw per sample, always taken). */
public record RandomHorizontalFlip(double p) implements Transform<Image, Image> {
    public RandomHorizontalFlip {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("RandomHorizontalFlip: p must be in [0, 1], got " + p);
    }

    @Override
    public Image apply(Image image, SampleRng rng) {
        return rng.nextDouble() < p ? flip(image) : image;
    }

    public static Image flip(Image image) {
        int c = image.channels(), h = image.height(), w = image.width();
        float[] in = image.pixels();
        float[] out = new float[in.length];
        for (int row = 0; row < c * h; row++) {
            int base = row * w;
            for (int x = 0; x < w; x++) out[base + x] = in[base + w - 1 - x];
        }
        return new Image(out, c, h, w);
    }
}
