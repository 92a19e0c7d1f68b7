package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/**
 * torchvision {@code RandomCrop(size, padding)}: pads every side with {@code padding} zeros, then cuts a
 * {@code height x width} window whose top-left corner is uniform over all positions that fit
 * ({@code top} drawn first, then {@code left}).
 */
public record RandomCrop(int height, int width, int padding) implements Transform<Image, Image> {
    public RandomCrop {
        if (height <= 0 || width <= 0 || padding < 0)
            throw new IllegalArgumentException("RandomCrop: size must be positive and padding >= 0, got size ["
                    + height + ", " + width + "], padding " + padding);
    }

    @Override
    public Image apply(Image image, SampleRng rng) {
        int ph = image.height() + 2 * padding, pw = image.width() + 2 * padding;
        if (height > ph || width > pw)
            throw new IllegalArgumentException("RandomCrop: crop [" + height + ", " + width + "] larger than the "
                    + "padded image [" + ph + ", " + pw + "] (" + image + ", padding " + padding + ")");
        int top = rng.nextInt(ph - height + 1);
        int left = rng.nextInt(pw - width + 1);
        return crop(image, top, left, height, width, padding);
    }

    /**
     * The {@code height x width} window at ({@code top}, {@code left}) of the image padded by {@code padding}
     * zeros on every side; coordinates are in the padded image.
     */
    public static Image crop(Image image, int top, int left, int height, int width, int padding) {
        int c = image.channels(), h = image.height(), w = image.width();
        float[] in = image.pixels();
        float[] out = new float[c * height * width];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < height; y++) {
                int sy = top + y - padding;
                if (sy < 0 || sy >= h) continue;
                for (int x = 0; x < width; x++) {
                    int sx = left + x - padding;
                    if (sx >= 0 && sx < w) out[(ch * height + y) * width + x] = in[(ch * h + sy) * w + sx];
                }
            }
        return new Image(out, c, height, width);
    }
}
