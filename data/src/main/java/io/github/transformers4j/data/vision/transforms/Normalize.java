package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;
import java.util.Arrays;

/** {@code (x - mean[c]) / std[c]} per channel (torchvision Normalize). */
public record Normalize(float[] mean, float[] std) implements Transform<Image, Image> {
    public Normalize {
        if (mean.length != std.length || mean.length == 0)
            throw new IllegalArgumentException("Normalize: mean " + Arrays.toString(mean) + " and std "
                    + Arrays.toString(std) + " must have the same, non-zero length");
        for (float s : std)
            if (!(s != 0) || !Float.isFinite(s))
                throw new IllegalArgumentException("Normalize: std must be finite and non-zero, got " + Arrays.toString(std));
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public Image apply(Image image, SampleRng rng) {
        int c = image.channels();
        if (c != mean.length)
            throw new IllegalArgumentException("Normalize: image has " + c + " channels, mean/std have "
                    + mean.length + " (" + image + ")");
        int plane = image.height() * image.width();
        float[] in = image.pixels();
        float[] out = new float[in.length];
        for (int ch = 0; ch < c; ch++) {
            float m = mean[ch], inv = 1f / std[ch];
            for (int i = ch * plane; i < (ch + 1) * plane; i++) out[i] = (in[i] - m) * inv;
        }
        return new Image(out, c, image.height(), image.width());
    }

    @Override
    public String toString() {
        return "Normalize[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
