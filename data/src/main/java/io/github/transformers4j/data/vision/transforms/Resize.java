package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/**
 * Bilinear resize to {@code height x width} with half-pixel centres, as PyTorch's
 * {@code interpolate(mode="bilinear", align_corners=False, antialias=False)}: output pixel {@code i} samples the
 * input at {@code (i + 0.5) * in / out - 0.5}, clamped to the image. No antialiasing, so strong downscaling
 * skips detail. {@link #shorterSide} resizes as torchvision's {@code Resize(size)} with one number: the shorter side
 * becomes {@code size}, the longer one {@code floor(size * long / short)}.
 */
public record Resize(int height, int width) implements Transform<Image, Image> {
    /** torchvision's {@code Resize(size)}: the shorter side to {@code size}, keeping the aspect ratio. */
    public static Transform<Image, Image> shorterSide(int size) {
        if (size <= 0) throw new IllegalArgumentException("Resize: size must be positive, got " + size);
        return (image, rng) -> {
            int h = image.height(), w = image.width();
            if (Math.min(h, w) == size) return image;
            Resize r = h <= w ? new Resize(size, (int) ((long) size * w / h)) : new Resize((int) ((long) size * h / w), size);
            return r.apply(image, rng);
        };
    }

    public Resize {
        if (height <= 0 || width <= 0)
            throw new IllegalArgumentException("Resize: size must be positive, got [" + height + ", " + width + "]");
    }

    @Override
    public Image apply(Image image, SampleRng rng) {
        int c = image.channels(), h = image.height(), w = image.width();
        if (h == height && w == width) return image;
        int[] y0 = new int[height], y1 = new int[height];
        float[] fy = new float[height];
        taps(h, height, y0, y1, fy);
        int[] x0 = new int[width], x1 = new int[width];
        float[] fx = new float[width];
        taps(w, width, x0, x1, fx);
        float[] in = image.pixels();
        float[] out = new float[c * height * width];
        for (int ch = 0; ch < c; ch++) {
            int src = ch * h * w, dst = ch * height * width;
            for (int y = 0; y < height; y++) {
                int r0 = src + y0[y] * w, r1 = src + y1[y] * w;
                float wy = fy[y];
                for (int x = 0; x < width; x++) {
                    float top = in[r0 + x0[x]] + (in[r0 + x1[x]] - in[r0 + x0[x]]) * fx[x];
                    float bottom = in[r1 + x0[x]] + (in[r1 + x1[x]] - in[r1 + x0[x]]) * fx[x];
                    out[dst + y * width + x] = top + (bottom - top) * wy;
                }
            }
        }
        return new Image(out, c, height, width);
    }

    /** Source indices and weight of the second one, per output index along one axis. */
    private static void taps(int in, int out, int[] i0, int[] i1, float[] frac) {
        double scale = (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = Math.max((i + 0.5) * scale - 0.5, 0);
            int lo = Math.min((int) src, in - 1);
            i0[i] = lo;
            i1[i] = Math.min(lo + 1, in - 1);
            frac[i] = (float) (src - lo);
        }
    }
}
