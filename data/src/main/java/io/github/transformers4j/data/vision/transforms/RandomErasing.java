package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/**
 * Random erasing (Zhong et al., 2017; torchvision's {@code RandomErasing}, timm's {@code RandomErasing}): with
 * probability {@code p}, one rectangle of the image, of area {@code uniform(scaleMin, scaleMax) * H * W} and aspect
 * ratio {@code exp(uniform(log ratioMin, log ratioMax))}, is replaced on every channel; up to 10 draws look for a
 * rectangle that fits, and the image stays as it is when none does (torchvision's rule). Meant for normalised
 * images: after {@link Normalize}, zero is the data set's mean and N(0, 1) noise its spread.
 *
 * <p>Draws per sample: one for {@code p} (always taken); when erasing, per attempt two for the rectangle's shape, two
 * for its corner when it fits, then the fill's.
 */
public record RandomErasing(double p, double scaleMin, double scaleMax, double ratioMin, double ratioMax, Fill fill)
        implements Transform<Image, Image> {
    /** What goes into the rectangle. */
    public enum Fill {
        /** 0 (torchvision's default value): the mean of normalised images. */
        ZERO,
        /** N(0, 1) per pixel and channel (timm's {@code mode='pixel'}, the paper's random values). */
        NORMAL
    }

    private static final int ATTEMPTS = 10;

    /** Probability {@code p}, area 2% to 33%, aspect ratio 0.3 to 3.3, N(0, 1) noise: timm's defaults. */
    public RandomErasing(double p) {
        this(p, 0.02, 1 / 3.0, 0.3, 3.3, Fill.NORMAL);
    }

    public RandomErasing {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("RandomErasing: p must be in [0, 1], got " + p);
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1))
            throw new IllegalArgumentException("RandomErasing: scale must satisfy 0 < min <= max <= 1, got [" + scaleMin + ", " + scaleMax + "]");
        if (!(ratioMin > 0 && ratioMin <= ratioMax))
            throw new IllegalArgumentException("RandomErasing: ratio must satisfy 0 < min <= max, got [" + ratioMin + ", " + ratioMax + "]");
        if (fill == null) throw new IllegalArgumentException("RandomErasing: fill must be given");
    }

    @Override
    public Image apply(Image image, SampleRng rng) {
        if (!(rng.nextDouble() < p)) return image;
        int h = image.height(), w = image.width();
        double area = (double) h * w, logMin = Math.log(ratioMin), logMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * (scaleMin + (scaleMax - scaleMin) * rng.nextDouble());
            double aspect = Math.exp(logMin + (logMax - logMin) * rng.nextDouble());
            int eh = (int) Math.round(Math.sqrt(target * aspect)), ew = (int) Math.round(Math.sqrt(target / aspect));
            if (eh < 1 || ew < 1 || eh >= h || ew >= w) continue;
            int top = rng.nextInt(h - eh + 1), left = rng.nextInt(w - ew + 1);
            return erase(image, top, left, eh, ew, fill, rng);
        }
        return image;
    }

    /** A copy of the image with the {@code height x width} rectangle at ({@code top}, {@code left}) filled on every channel. */
    public static Image erase(Image image, int top, int left, int height, int width, Fill fill, SampleRng rng) {
        int c = image.channels(), h = image.height(), w = image.width();
        if (top < 0 || left < 0 || height < 0 || width < 0 || top + height > h || left + width > w)
            throw new IllegalArgumentException("RandomErasing: rectangle [" + top + ", " + left + ", " + height + ", " + width
                    + "] outside " + image);
        float[] out = image.pixels().clone();
        for (int ch = 0; ch < c; ch++)
            for (int y = top; y < top + height; y++)
                for (int x = left; x < left + width; x++)
                    out[(ch * h + y) * w + x] = fill == Fill.ZERO ? 0f : (float) gaussian(rng);
        return new Image(out, c, h, w);
    }

    /** A standard normal draw (Box-Muller on two uniforms; 1 - u keeps the logarithm finite). */
    static double gaussian(SampleRng rng) {
        double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
