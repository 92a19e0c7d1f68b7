package io.github.transformers4j.data.vision;

import java.util.Arrays;

/**
 * One image, channels first: {@code pixels[(c * height + y) * width + x]}. Datasets return pixel values in the
 * uint8 range 0..255; {@code Transforms.toTensor()} scales them to 0..1, as torchvision's ToTensor does.
 * Transforms never modify an image; they return a new one.
 */
public record Image(float[] pixels, int channels, int height, int width) {
    public Image {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new IllegalArgumentException("Image: dimensions must be positive, got [" + channels + ", "
                    + height + ", " + width + "]");
        if (pixels.length != (long) channels * height * width)
            throw new IllegalArgumentException("Image: " + pixels.length + " pixels do not fill shape ["
                    + channels + ", " + height + ", " + width + "]");
    }

    /** An image from {@code c*h*w} unsigned bytes at {@code offset}, CHW order, values 0..255. */
    public static Image fromBytes(byte[] data, int offset, int channels, int height, int width) {
        float[] p = new float[channels * height * width];
        for (int i = 0; i < p.length; i++) p[i] = data[offset + i] & 0xFF;
        return new Image(p, channels, height, width);
    }

    public float get(int c, int y, int x) {
        return pixels[(c * height + y) * width + x];
    }

    /** {@code [channels, height, width]}. */
    public int[] shape() {
        return new int[] {channels, height, width};
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Image i && i.channels == channels && i.height == height && i.width == width
                && Arrays.equals(i.pixels, pixels);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(pixels) * 31 + Arrays.hashCode(shape());
    }

    @Override
    public String toString() {
        return "Image[" + channels + ", " + height + ", " + width + "]";
    }
}
