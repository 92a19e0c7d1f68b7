package io.github.transformers4j.data.vision;

/**
 * Antialiased resizing as PIL's {@code Image.resize} (what Hugging Face's image processors use): separable, the
 * horizontal pass first; each output pixel averages the input under the filter stretched by the downscale factor
 * (so shrinking blurs instead of skipping pixels); uint8 rounding between and after the passes, as PIL on 8-bit images.
 */
public final class Resample {
    public enum Filter {
        BILINEAR(1), BICUBIC(2);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            x = Math.abs(x);
            return switch (this) {
                case BILINEAR -> x < 1 ? 1 - x : 0;
                case BICUBIC -> { // a = -0.5, as PIL
                    double a = -0.5;
                    yield x < 1 ? ((a + 2) * x - (a + 3)) * x * x + 1 : x < 2 ? (((x - 5) * x + 8) * x - 4) * a : 0;
                }
            };
        }
    }

    private Resample() {}

    /** image (values 0..255) -> height x width. */
    public static Image resize(Image image, int height, int width, Filter filter) {
        Image x = image;
        if (x.width() != width) x = pass(x, width, filter, true);
        if (x.height() != height) x = pass(x, height, filter, false);
        return x;
    }

    private static Image pass(Image im, int out, Filter f, boolean horizontal) {
        int c = im.channels(), h = im.height(), w = im.width(), in = horizontal ? w : h;
        double scale = (double) in / out, filterscale = Math.max(scale, 1), support = f.support * filterscale;
        int[] start = new int[out];
        double[][] weights = new double[out][];
        for (int o = 0; o < out; o++) {
            double center = (o + 0.5) * scale;
            int lo = Math.max((int) (center - support + 0.5), 0), hi = Math.min((int) (center + support + 0.5), in);
            double[] k = new double[hi - lo];
            double sum = 0;
            for (int i = 0; i < k.length; i++) sum += k[i] = f.weight((i + lo - center + 0.5) / filterscale);
            if (sum != 0) for (int i = 0; i < k.length; i++) k[i] /= sum;
            start[o] = lo;
            weights[o] = k;
        }
        int oh = horizontal ? h : out, ow = horizontal ? out : w;
        float[] src = im.pixels(), dst = new float[c * oh * ow];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    int o = horizontal ? x : y;
                    double[] k = weights[o];
                    double acc = 0;
                    for (int i = 0; i < k.length; i++) {
                        int sy = horizontal ? y : start[o] + i, sx = horizontal ? start[o] + i : x;
                        acc += k[i] * src[(ch * h + sy) * w + sx];
                    }
                    dst[(ch * oh + y) * ow + x] = (float) Math.min(255, Math.max(0, Math.round(acc)));
                }
        return new Image(dst, c, oh, ow);
    }
}
