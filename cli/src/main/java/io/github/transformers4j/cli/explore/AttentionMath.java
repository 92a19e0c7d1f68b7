package io.github.transformers4j.cli.explore;

import java.util.Arrays;

/** Per-head statistics of attention maps and attention rollout, on row-major [query * keys + key] weights. */
final class AttentionMath {
    private AttentionMath() {}

    /** entropy (nats, mean over queries), mean distance (tokens, or patches on the grid), share to self, share to special tokens. */
    record Stats(double entropy, double meanDistance, double self, double special) {}

    static Stats stats(float[] w, int n, boolean[] special, int grid) {
        double ent = 0, dist = 0, self = 0, spec = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double p = w[i * n + j];
                if (p > 0) ent -= p * Math.log(p);
                dist += p * distance(i, j, grid);
                if (special[j]) spec += p;
            }
            self += w[i * n + i];
        }
        return new Stats(ent / n, dist / n, self / n, spec / n);
    }

    /** Token distance |i - j|; on a ViT's grid (token 0 the class token, at distance 0), the Euclidean patch distance. */
    private static double distance(int i, int j, int grid) {
        if (grid == 0) return Math.abs(i - j);
        if (i == 0 || j == 0) return 0;
        int a = i - 1, b = j - 1;
        return Math.hypot(a / grid - b / grid, a % grid - b % grid);
    }

    enum Fusion { MEAN, MAX, MIN }

    /**
     * Attention rollout (Abnar and Zuidema 2020) from the class token: per layer the heads fused, the weakest
     * {@code discard} share of entries set to 0 (never the class token's own), the identity added for the residual,
     * rows renormalised, multiplied through the layers. Returns the class token's row over the patches, scaled to max 1.
     *
     * @param attention [layer][head][n * n]
     */
    static float[] rollout(float[][][] attention, int n, Fusion fusion, double discard) {
        double[] r = identity(n);
        for (float[][] layer : attention) {
            double[] a = new double[n * n];
            for (int k = 0; k < a.length; k++) {
                double v = fusion == Fusion.MIN ? Double.MAX_VALUE : fusion == Fusion.MAX ? -Double.MAX_VALUE : 0;
                for (float[] head : layer) {
                    v = switch (fusion) {
                        case MEAN -> v + head[k] / layer.length;
                        case MAX -> Math.max(v, head[k]);
                        case MIN -> Math.min(v, head[k]);
                    };
                }
                a[k] = v;
            }
            int drop = (int) (discard * a.length);
            if (drop > 0) {
                Integer[] order = new Integer[a.length];
                for (int k = 0; k < a.length; k++) order[k] = k;
                final double[] av = a;
                Arrays.sort(order, (x, y) -> Double.compare(av[x], av[y]));
                for (int k = 0; k < drop; k++) if (order[k] != 0) a[order[k]] = 0;
            }
            for (int i = 0; i < n; i++) {
                double sum = 0;
                for (int j = 0; j < n; j++) sum += a[i * n + j] = (a[i * n + j] + (i == j ? 1 : 0)) / 2;
                for (int j = 0; j < n; j++) a[i * n + j] /= sum;
            }
            r = matmul(a, r, n);
        }
        float[] out = new float[n - 1];
        double max = 0;
        for (int j = 1; j < n; j++) max = Math.max(max, r[j]);
        for (int j = 1; j < n; j++) out[j - 1] = (float) (max == 0 ? 0 : r[j] / max);
        return out;
    }

    private static double[] identity(int n) {
        double[] r = new double[n * n];
        for (int i = 0; i < n; i++) r[i * n + i] = 1;
        return r;
    }

    private static double[] matmul(double[] a, double[] b, int n) {
        double[] c = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                double x = a[i * n + k];
                if (x == 0) continue;
                for (int j = 0; j < n; j++) c[i * n + j] += x * b[k * n + j];
            }
        return c;
    }
}
