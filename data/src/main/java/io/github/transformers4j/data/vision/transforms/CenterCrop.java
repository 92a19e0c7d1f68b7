package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/**
 * The central {@code height x width} window, as torchvision's {@code CenterCrop}: offsets
 * {@code round((h - height) / 2)} and {@code round((w - width) / 2)} (half to even, as Python's round). An image smaller
 * than the window is padded with zeros around it first, as torchvision does.
 */
public record CenterCrop(int height, int width) implements Transform<Image, Image> {
    public CenterCrop {
        if (height <= 0 || width <= 0)
            throw new IllegalArgumentException("CenterCrop: size must be positive, got [" + height + ", " + width + "]");
    }

    @Override
    public Image apply(Image image, SampleRng rng) {
        int c = image.channels(), h = image.height(), w = image.width();
        if (h == height && w == width) return image;
        int top = (int) Math.rint((h - height) / 2.0), left = (int) Math.rint((w - width) / 2.0);
        float[] in = image.pixels(), out = new float[c * height * width];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < height; y++) {
                int sy = y + top;
                if (sy < 0 || sy >= h) continue;
                for (int x = 0; x < width; x++) {
                    int sx = x + left;
                    if (sx >= 0 && sx < w) out[(ch * height + y) * width + x] = in[(ch * h + sy) * w + sx];
                }
            }
        return new Image(out, c, height, width);
    }
}
