package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.Dataset;
import java.util.List;

/**
 * Images of one shape kept as one compact uint8 array (CHW per image) with one label per image; pixels become
 * floats only when a sample is read. MNIST-style and CIFAR datasets load into this.
 */
public final class InMemoryImageDataset implements ImageClassificationDataset {
    private final String name;
    private final byte[] pixels;
    private final int[] labels;
    private final int channels, height, width;
    private final List<String> classes;

    public InMemoryImageDataset(String name, byte[] pixels, int[] labels, int channels, int height, int width,
                                List<String> classes) {
        long expected = (long) labels.length * channels * height * width;
        if (pixels.length != expected)
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixel bytes, expected " + expected
                    + " for " + labels.length + " images of [" + channels + ", " + height + ", " + width + "]");
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes.size())
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of sample " + i
                        + " is outside 0.." + (classes.size() - 1));
        }
        this.name = name;
        this.pixels = pixels;
        this.labels = labels;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.classes = List.copyOf(classes);
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public LabeledImage get(int index) {
        Dataset.checkIndex(index, labels.length, name);
        int n = channels * height * width;
        return new LabeledImage(Image.fromBytes(pixels, index * n, channels, height, width), labels[index]);
    }

    public int label(int index) {
        return labels[index];
    }

    /** A copy of all labels, in order. */
    public int[] labels() {
        return labels.clone();
    }

    /** {@code [channels, height, width]} of every image. */
    public int[] imageShape() {
        return new int[] {channels, height, width};
    }

    /**
     * Per-channel mean and standard deviation of all pixels scaled to 0..1 (the numbers {@code Normalize}
     * wants): {@code {mean[C], std[C]}}. Population std, as {@code torch.std(unbiased=False)}.
     */
    public float[][] channelMeanStd() {
        int plane = height * width, n = channels * plane;
        double[] sum = new double[channels], sumSq = new double[channels];
        for (int i = 0; i < labels.length; i++)
            for (int c = 0; c < channels; c++) {
                long s = 0, s2 = 0;
                for (int k = i * n + c * plane, end = k + plane; k < end; k++) {
                    int v = pixels[k] & 0xFF;
                    s += v;
                    s2 += v * v;
                }
                sum[c] += s;
                sumSq[c] += s2;
            }
        float[] mean = new float[channels], std = new float[channels];
        double count = (double) labels.length * plane;
        for (int c = 0; c < channels; c++) {
            double m = sum[c] / count;
            mean[c] = (float) (m / 255);
            std[c] = (float) (Math.sqrt(Math.max(sumSq[c] / count - m * m, 0)) / 255);
        }
        return new float[][] {mean, std};
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public String description() {
        return name + " (" + labels.length + " images " + channels + "x" + height + "x" + width + ", "
                + classes.size() + " classes)";
    }

    @Override
    public String toString() {
        return description();
    }
}
