package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.tensor.Tensor;

/**
 * Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) of a training batch, as timm's {@code Mixup} in its default
 * batch mode: image i is mixed with image B-1-i of the same batch (the batch reversed, {@link #pairs}) with one
 * λ ~ Beta(α, α) for the whole batch; with both on, a batch takes CutMix with probability {@code switchProb}. The loss
 * is λ CE(logits, y) + (1 - λ) CE(logits, y reversed): cross-entropy against the mixed one-hot targets.
 *
 * <p>The draw is made on the host ({@link #draw}) and reaches the step as small tensors, so that a captured GPU step
 * replays with each batch's own draw: the mask m (1, 1, H, W) of {@link Draw#mask} (mixed = m x + (1 - m) x reversed)
 * and λ ({@link Draw#lambda}).
 *
 * @param mixupAlpha  α of mixup's Beta(α, α) (0: no mixup)
 * @param cutmixAlpha α of CutMix's Beta(α, α) (0: no CutMix)
 * @param switchProb  with both on, the probability that a batch takes CutMix rather than mixup
 */
public record Mixup(double mixupAlpha, double cutmixAlpha, double switchProb) {
    public Mixup {
        if (!(mixupAlpha >= 0 && Double.isFinite(mixupAlpha)))
            throw new IllegalArgumentException("--mixup must be >= 0, got " + mixupAlpha);
        if (!(cutmixAlpha >= 0 && Double.isFinite(cutmixAlpha)))
            throw new IllegalArgumentException("--cutmix must be >= 0, got " + cutmixAlpha);
        if (!(switchProb >= 0 && switchProb <= 1))
            throw new IllegalArgumentException("Mixup: switchProb must be in [0, 1], got " + switchProb);
    }

    /** timm's default switch between the two when both are on: CutMix for half of the batches. */
    public static Mixup of(double mixupAlpha, double cutmixAlpha) {
        return new Mixup(mixupAlpha, cutmixAlpha, 0.5);
    }

    public boolean enabled() {
        return mixupAlpha > 0 || cutmixAlpha > 0;
    }

    /**
     * One batch's draw. lambda: the weight of the batch's own images and labels; for CutMix the box
     * [y0, y1) x [x0, x1) that the partner images fill, and lambda = 1 - its share of the image (timm's
     * {@code correct_lam}).
     */
    public record Draw(double lambda, boolean cutmix, int y0, int y1, int x0, int x1) {
        /** m (1, 1, h, w), F32: λ everywhere for mixup; for CutMix 0 inside the box, 1 outside. */
        public Tensor mask(int h, int w) {
            float[] m = new float[h * w];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    m[y * w + x] = cutmix ? (y >= y0 && y < y1 && x >= x0 && x < x1 ? 0f : 1f) : (float) lambda;
                }
            }
            return Tensor.of(m, 1, 1, h, w);
        }
    }

    /** The draw for a batch of h x w images. */
    public Draw draw(SampleRng rng, int h, int w) {
        if (!enabled()) throw new IllegalStateException("Mixup: neither mixup nor CutMix is on");
        boolean cut = cutmixAlpha > 0 && (mixupAlpha == 0 || rng.nextDouble() < switchProb);
        double lam = beta(cut ? cutmixAlpha : mixupAlpha, rng);
        if (!cut) return new Draw(lam, false, 0, 0, 0, 0);
        double ratio = Math.sqrt(1 - lam);
        int ch = (int) (h * ratio), cw = (int) (w * ratio), cy = rng.nextInt(h), cx = rng.nextInt(w);
        int y0 = Math.clamp(cy - ch / 2, 0, h), y1 = Math.clamp(cy + ch / 2, 0, h);
        int x0 = Math.clamp(cx - cw / 2, 0, w), x1 = Math.clamp(cx + cw / 2, 0, w);
        return new Draw(1 - (double) (y1 - y0) * (x1 - x0) / ((double) h * w), true, y0, y1, x0, x1);
    }

    /** The partner of each image: i -> batch - 1 - i (I64 (batch)). */
    public static Tensor pairs(int batch) {
        long[] p = new long[batch];
        for (int i = 0; i < batch; i++) p[i] = batch - 1 - i;
        return Tensor.ofLongs(p, batch);
    }

    /** Beta(a, a) as X / (X + Y) of two Gamma(a) draws. */
    static double beta(double a, SampleRng rng) {
        double x = gamma(a, rng), y = gamma(a, rng);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    /** Gamma(a, 1) by Marsaglia and Tsang's squeeze method (2000); a < 1 through Gamma(a + 1) U^(1/a). */
    static double gamma(double a, SampleRng rng) {
        if (a < 1) return gamma(a + 1, rng) * Math.pow(1 - rng.nextDouble(), 1 / a);
        double d = a - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = normal(rng), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1 - rng.nextDouble(); // (0, 1]
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
        }
    }

    /** A standard normal number (Box-Muller, the cosine branch). */
    static double normal(SampleRng rng) {
        double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
