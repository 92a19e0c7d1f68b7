package io.github.transformers4j.data.vision;

import java.util.List;

/**
 * A batch of images as plain arrays: {@code images} is (B, C, H, W) row-major, {@code labels} is (B,).
 * The step before {@link Batch}, for code that wants no tensors.
 */
public record ImageArrays(float[] images, long[] labels, int batch, int channels, int height, int width) {
    /** Stacks samples that all have the same shape; an image of another shape is an error naming both. */
    public static ImageArrays stack(List<LabeledImage> samples) {
        if (samples.isEmpty()) throw new IllegalArgumentException("collate: empty batch");
        Image first = samples.getFirst().image();
        int c = first.channels(), h = first.height(), w = first.width(), n = c * h * w;
        float[] images = new float[samples.size() * n];
        long[] labels = new long[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            Image img = samples.get(i).image();
            if (img.channels() != c || img.height() != h || img.width() != w)
                throw new IllegalArgumentException("collate: sample " + i + " has shape [" + img.channels() + ", "
                        + img.height() + ", " + img.width() + "], sample 0 has [" + c + ", " + h + ", " + w
                        + "]; resize images to one size before batching");
            System.arraycopy(img.pixels(), 0, images, i * n, n);
            labels[i] = samples.get(i).label();
        }
        return new ImageArrays(images, labels, samples.size(), c, h, w);
    }
}
