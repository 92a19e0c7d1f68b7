package io.github.transformers4j.cli.explore;

import java.util.Arrays;

/** Per-head statistics of attention maps and attention rollout, on row-major [query * keys + key] weights. */
final class AttentionMath {
    private AttentionMath() {}

    /** entropy (nats, mean over queries), mean distance (tokens, or patches on the grid), share to self, share to special tokens. */
    record Stats(double entropy, double meanDistance, double self, double special) {}

    static Stats stats(float[] w, int n, boolean[] special, int grid, boolean classToken) {
        double ent = 0, dist = 0, self = 0, spec = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double p = w[i * n + j];
                if (p > 0) ent -= p * Math.log(p);
                dist += p * distance(i, j, grid, classToken);
                if (special[j]) spec += p;
            }
            self += w[i * n + i];
        }
        return new Stats(ent / n, dist / n, self / n, spec / n);
    }

    /** Entropy and the share to special keys, for attention between two sequences (cross-attention): no distance or self. */
    static Stats crossStats(float[] w, int lq, int lk, boolean[] keySpecial) {
        double ent = 0, spec = 0;
        for (int i = 0; i < lq; i++)
            for (int j = 0; j < lk; j++) {
                double p = w[i * lk + j];
                if (p > 0) ent -= p * Math.log(p);
                if (keySpecial[j]) spec += p;
            }
        return new Stats(ent / lq, Double.NaN, Double.NaN, spec / lq);
    }

    /** Token distance |i - j|; on a ViT's grid the Euclidean patch distance (a class token is at distance 0 of everything). */
    private static double distance(int i, int j, int grid, boolean classToken) {
        if (grid == 0) return Math.abs(i - j);
        int off = classToken ? 1 : 0;
        if (i < off || j < off) return 0;
        int a = i - off, b = j - off;
        return Math.hypot(a / grid - b / grid, a % grid - b % grid);
    }

    /**
     * The attention over the patches of one layer, averaged over {@code heads}: the class token's row (without its own
     * column), or for models without a class token the mean over all queries; scaled to max 1.
     */
    static float[] patches(io.github.transformers4j.nn.functional.AttentionCapture.Call c, java.util.List<Integer> heads, boolean classToken,
            int[] cells, int gridCells) {
        int n = c.keys();
        double[] v = new double[gridCells];
        for (int h : heads) {
            float[] w = c.head(h);
            for (int j = 0; j < n; j++) {
                if (cells[j] < 0) continue;
                if (classToken) v[cells[j]] += w[j];
                else for (int i = 0; i < c.queries(); i++) v[cells[j]] += w[i * n + j] / c.queries();
            }
        }
        return scaled(v);
    }

    private static float[] scaled(double[] v) {
        double max = 0;
        for (double x : v) max = Math.max(max, x);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) (max == 0 ? 0 : v[i] / max);
        return out;
    }

    enum Fusion { MEAN, MAX, MIN }

    /**
     * Attention rollout (Abnar and Zuidema 2020): per layer the heads fused, the weakest {@code discard} share of
     * entries set to 0 (never the first token's own), the identity added for the residual, rows renormalised, multiplied
     * through the layers. Returns the class token's row over the patches (without a class token: the mean row), scaled
     * to max 1. Layers of another length (a decoder's) are left out.
     */
    static float[] rollout(java.util.List<io.github.transformers4j.nn.functional.AttentionCapture.Call> calls, Fusion fusion, double discard,
            boolean classToken, int[] cells, int gridCells) {
        int n = calls.getFirst().keys();
        double[] r = identity(n);
        for (var call : calls) {
            if (call.queries() != n || call.keys() != n) continue;
            int heads = call.heads();
            double[] a = new double[n * n];
            for (int k = 0; k < a.length; k++) {
                double v = fusion == Fusion.MIN ? Double.MAX_VALUE : fusion == Fusion.MAX ? -Double.MAX_VALUE : 0;
                for (int h = 0; h < heads; h++) {
                    double x = call.weights()[h * n * n + k];
                    v = switch (fusion) {
                        case MEAN -> v + x / heads;
                        case MAX -> Math.max(v, x);
                        case MIN -> Math.min(v, x);
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
        double[] v = new double[gridCells];
        for (int j = 0; j < n; j++) {
            if (cells[j] < 0) continue;
            if (classToken) v[cells[j]] = r[j];
            else for (int i = 0; i < n; i++) v[cells[j]] += r[i * n + j] / n;
        }
        return scaled(v);
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
