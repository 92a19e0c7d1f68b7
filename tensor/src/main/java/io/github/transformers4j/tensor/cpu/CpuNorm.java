package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Row-wise softmax and layer norm, forward and backward. Rows are independent: parallel over rows. */
final class CpuNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    private CpuNorm() {}

    private static int rows(Tensor t) {
        int d = t.shape()[t.dim() - 1];
        return (int) (t.numel() / Math.max(d, 1));
    }

    // ------------------------------------------------------------ softmax (B, T, C) over C

    static void softmax(Tensor x, Tensor out, boolean log) {
        int d = x.shape()[x.dim() - 1], rows = rows(x);
        MemorySegment xs = Access.seg(x), os = Access.seg(out);
        long xo = x.storageOffset(), oo = out.storageOffset();
        DType t = x.dtype();
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(d, 1)), (a, b) -> {
            for (int r = a; r < b; r++) {
                long xb = xo + (long) r * d, ob = oo + (long) r * d;
                if (t == DType.F32) softmaxRowF32(xs, xb, os, ob, d, log);
                else softmaxRow(xs, xb, os, ob, d, log, t);
            }
        });
    }

    private static void softmaxRowF32(MemorySegment xs, long xb, MemorySegment os, long ob, int d, boolean log) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0, upper = S.loopBound(d);
        if (upper > 0) {
            FloatVector vm = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < upper; i += S.length()) vm = vm.max(FloatVector.fromMemorySegment(S, xs, (xb + i) * 4, NO));
            max = vm.reduceLanes(VectorOperators.MAX);
        }
        for (; i < d; i++) max = Math.max(max, xs.getAtIndex(JAVA_FLOAT, xb + i));
        if (max == Float.NEGATIVE_INFINITY) { // every entry masked: a row of zeros, never NaN
            for (int k = 0; k < d; k++) os.setAtIndex(JAVA_FLOAT, ob + k, log ? Float.NEGATIVE_INFINITY : 0f);
            return;
        }
        FloatVector acc = FloatVector.zero(S);
        for (i = 0; i < upper; i += S.length()) {
            FloatVector e = VecMath.exp(FloatVector.fromMemorySegment(S, xs, (xb + i) * 4, NO).sub(max));
            if (!log) e.intoMemorySegment(os, (ob + i) * 4, NO);
            acc = acc.add(e);
        }
        double sum = VecMath.sum(acc);
        for (; i < d; i++) {
            float e = VecMath.exp(xs.getAtIndex(JAVA_FLOAT, xb + i) - max);
            if (!log) os.setAtIndex(JAVA_FLOAT, ob + i, e);
            sum += e;
        }
        if (log) {
            float shift = (float) (max + Math.log(sum));
            for (int k = 0; k < d; k++) os.setAtIndex(JAVA_FLOAT, ob + k, xs.getAtIndex(JAVA_FLOAT, xb + k) - shift);
        } else {
            float inv = (float) (1 / sum);
            for (i = 0; i < upper; i += S.length()) {
                FloatVector.fromMemorySegment(S, os, (ob + i) * 4, NO).mul(inv).intoMemorySegment(os, (ob + i) * 4, NO);
            }
            for (; i < d; i++) os.setAtIndex(JAVA_FLOAT, ob + i, os.getAtIndex(JAVA_FLOAT, ob + i) * inv);
        }
    }

    private static void softmaxRow(MemorySegment xs, long xb, MemorySegment os, long ob, int d, boolean log, DType t) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < d; k++) max = Math.max(max, Access.get(xs, t, xb + k));
        if (max == Double.NEGATIVE_INFINITY) {
            for (int k = 0; k < d; k++) Access.set(os, t, ob + k, log ? Double.NEGATIVE_INFINITY : 0);
            return;
        }
        double sum = 0;
        for (int k = 0; k < d; k++) sum += Math.exp(Access.get(xs, t, xb + k) - max);
        double lse = max + Math.log(sum);
        for (int k = 0; k < d; k++) {
            double v = Access.get(xs, t, xb + k) - lse;
            Access.set(os, t, ob + k, log ? v : Math.exp(v));
        }
    }

    static void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log) {
        int d = y.shape()[y.dim() - 1], rows = rows(y);
        MemorySegment ys = Access.seg(y), gs = Access.seg(gy), xs = Access.seg(gx);
        long yo = y.storageOffset(), go = gy.storageOffset(), xo = gx.storageOffset();
        DType t = y.dtype();
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(d, 1)), (a, b) -> {
            for (int r = a; r < b; r++) {
                long off = (long) r * d;
                if (t == DType.F32) {
                    float dot = 0;
                    for (int k = 0; k < d; k++) {
                        float g = gs.getAtIndex(JAVA_FLOAT, go + off + k);
                        dot += log ? g : g * ys.getAtIndex(JAVA_FLOAT, yo + off + k);
                    }
                    for (int k = 0; k < d; k++) {
                        float yv = ys.getAtIndex(JAVA_FLOAT, yo + off + k), g = gs.getAtIndex(JAVA_FLOAT, go + off + k);
                        xs.setAtIndex(JAVA_FLOAT, xo + off + k, log ? g - (float) Math.exp(yv) * dot : yv * (g - dot));
                    }
                    continue;
                }
                double dot = 0;
                for (int k = 0; k < d; k++) {
                    double g = Access.get(gs, t, go + off + k);
                    dot += log ? g : g * Access.get(ys, t, yo + off + k);
                }
                for (int k = 0; k < d; k++) {
                    double yv = Access.get(ys, t, yo + off + k), g = Access.get(gs, t, go + off + k);
                    // log: gy - softmax * sum(gy), with softmax = exp(y) (0 for fully masked rows, y = -inf)
                    double v = log ? g - Math.exp(yv) * dot : yv * (g - dot);
                    Access.set(xs, t, xo + off + k, v);
                }
            }
        });
    }

    // ------------------------------------------------------------ layer norm (rows, D)

    static void layerNorm(Tensor x, Tensor w, Tensor b, double eps, Tensor y, Tensor mean, Tensor rstd) {
        int d = x.shape()[x.dim() - 1], rows = rows(x);
        MemorySegment xs = Access.seg(x), ys = Access.seg(y), ms = Access.seg(mean), rs = Access.seg(rstd);
        MemorySegment ws = w == null ? null : Access.seg(w), bs = b == null ? null : Access.seg(b);
        long xo = x.storageOffset(), yo = y.storageOffset(), wo = w == null ? 0 : w.storageOffset(), bo = b == null ? 0 : b.storageOffset();
        DType t = x.dtype();
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(d, 1)), (a, bEnd) -> {
            for (int r = a; r < bEnd; r++) {
                long off = (long) r * d;
                if (t == DType.F32) {
                    layerNormRowF32(xs, xo + off, ys, yo + off, ws, wo, bs, bo, d, eps, ms, mean.storageOffset() + r, rs, rstd.storageOffset() + r);
                    continue;
                }
                double sum = 0;
                for (int k = 0; k < d; k++) sum += Access.get(xs, t, xo + off + k);
                double mu = sum / d, sq = 0;
                for (int k = 0; k < d; k++) {
                    double c = Access.get(xs, t, xo + off + k) - mu;
                    sq += c * c;
                }
                double rs0 = 1 / Math.sqrt(sq / d + eps);
                Access.set(ms, t, mean.storageOffset() + r, mu);
                Access.set(rs, t, rstd.storageOffset() + r, rs0);
                for (int k = 0; k < d; k++) {
                    double v = (Access.get(xs, t, xo + off + k) - mu) * rs0;
                    if (ws != null) v *= Access.get(ws, t, wo + k);
                    if (bs != null) v += Access.get(bs, t, bo + k);
                    Access.set(ys, t, yo + off + k, v);
                }
            }
        });
    }

    private static void layerNormRowF32(MemorySegment xs, long xb, MemorySegment ys, long yb, MemorySegment ws, long wo,
            MemorySegment bs, long bo, int d, double eps, MemorySegment ms, long mi, MemorySegment rs, long ri) {
        int upper = S.loopBound(d), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < upper; i += S.length()) acc = acc.add(FloatVector.fromMemorySegment(S, xs, (xb + i) * 4, NO));
        double sum = VecMath.sum(acc);
        for (; i < d; i++) sum += xs.getAtIndex(JAVA_FLOAT, xb + i);
        float mu = (float) (sum / d);
        FloatVector sq = FloatVector.zero(S);
        for (i = 0; i < upper; i += S.length()) {
            FloatVector c = FloatVector.fromMemorySegment(S, xs, (xb + i) * 4, NO).sub(mu);
            sq = c.fma(c, sq);
        }
        double var = VecMath.sum(sq);
        for (; i < d; i++) {
            float c = xs.getAtIndex(JAVA_FLOAT, xb + i) - mu;
            var += c * c;
        }
        float rstd = (float) (1 / Math.sqrt(var / d + eps));
        ms.setAtIndex(JAVA_FLOAT, mi, mu);
        rs.setAtIndex(JAVA_FLOAT, ri, rstd);
        for (i = 0; i < upper; i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, xs, (xb + i) * 4, NO).sub(mu).mul(rstd);
            if (ws != null) v = v.mul(FloatVector.fromMemorySegment(S, ws, (wo + i) * 4, NO));
            if (bs != null) v = v.add(FloatVector.fromMemorySegment(S, bs, (bo + i) * 4, NO));
            v.intoMemorySegment(ys, (yb + i) * 4, NO);
        }
        for (; i < d; i++) {
            float v = (xs.getAtIndex(JAVA_FLOAT, xb + i) - mu) * rstd;
            if (ws != null) v *= ws.getAtIndex(JAVA_FLOAT, wo + i);
            if (bs != null) v += bs.getAtIndex(JAVA_FLOAT, bo + i);
            ys.setAtIndex(JAVA_FLOAT, yb + i, v);
        }
    }

    /**
     * gx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), gxhat = gy * w;
     * gw = sum over rows of gy * xhat, gb = sum over rows of gy (column blocks in parallel, rows in order).
     */
    static void layerNormBackward(Tensor gy, Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gx, Tensor gw, Tensor gb) {
        int d = x.shape()[x.dim() - 1], rows = rows(x);
        MemorySegment gs = Access.seg(gy), xs = Access.seg(x), ms = Access.seg(mean), rs = Access.seg(rstd), gxs = Access.seg(gx);
        MemorySegment ws = w == null ? null : Access.seg(w);
        long go = gy.storageOffset(), xo = x.storageOffset(), gxo = gx.storageOffset(), wo = w == null ? 0 : w.storageOffset();
        long mo = mean.storageOffset(), ro = rstd.storageOffset();
        DType t = x.dtype();
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(d, 1)), (a, b) -> {
            for (int r = a; r < b; r++) {
                long off = (long) r * d;
                if (t == DType.F32) {
                    float mu = ms.getAtIndex(JAVA_FLOAT, mo + r), rs0 = rs.getAtIndex(JAVA_FLOAT, ro + r);
                    float s1 = 0, s2 = 0;
                    for (int k = 0; k < d; k++) {
                        float g = gs.getAtIndex(JAVA_FLOAT, go + off + k) * (ws == null ? 1f : ws.getAtIndex(JAVA_FLOAT, wo + k));
                        float xh = (xs.getAtIndex(JAVA_FLOAT, xo + off + k) - mu) * rs0;
                        s1 += g;
                        s2 += g * xh;
                    }
                    s1 /= d;
                    s2 /= d;
                    for (int k = 0; k < d; k++) {
                        float g = gs.getAtIndex(JAVA_FLOAT, go + off + k) * (ws == null ? 1f : ws.getAtIndex(JAVA_FLOAT, wo + k));
                        float xh = (xs.getAtIndex(JAVA_FLOAT, xo + off + k) - mu) * rs0;
                        gxs.setAtIndex(JAVA_FLOAT, gxo + off + k, rs0 * (g - s1 - xh * s2));
                    }
                    continue;
                }
                double mu = Access.get(ms, t, mo + r), rs0 = Access.get(rs, t, ro + r);
                double s1 = 0, s2 = 0;
                for (int k = 0; k < d; k++) {
                    double g = Access.get(gs, t, go + off + k) * (ws == null ? 1 : Access.get(ws, t, wo + k));
                    double xh = (Access.get(xs, t, xo + off + k) - mu) * rs0;
                    s1 += g;
                    s2 += g * xh;
                }
                s1 /= d;
                s2 /= d;
                for (int k = 0; k < d; k++) {
                    double g = Access.get(gs, t, go + off + k) * (ws == null ? 1 : Access.get(ws, t, wo + k));
                    double xh = (Access.get(xs, t, xo + off + k) - mu) * rs0;
                    Access.set(gxs, t, gxo + off + k, rs0 * (g - s1 - xh * s2));
                }
            }
        });
        if (gw == null && gb == null) return;
        MemorySegment gws = gw == null ? null : Access.seg(gw), gbs = gb == null ? null : Access.seg(gb);
        int block = 64;
        Parallel.forRange((d + block - 1) / block, 1, (a, b) -> {
            double[] accW = new double[block], accB = new double[block];
            for (int blk = a; blk < b; blk++) {
                int k0 = blk * block, k1 = Math.min(d, k0 + block);
                java.util.Arrays.fill(accW, 0);
                java.util.Arrays.fill(accB, 0);
                int kv = k0;
                if (t == DType.F32) { // vectors of columns first (the same sums, bit for bit), then the rest one by one
                    for (; kv + ColumnSums.LN_WIDTH <= k1; kv += ColumnSums.LN_WIDTH)
                        ColumnSums.layerNormParams(gs, go, xs, xo, ms, mo, rs, ro, rows, d, kv, accW, accB, kv - k0);
                }
                for (int r = 0; r < rows && kv < k1; r++) {
                    long off = (long) r * d;
                    if (t == DType.F32) {
                        float mu = ms.getAtIndex(JAVA_FLOAT, mo + r), rs0 = rs.getAtIndex(JAVA_FLOAT, ro + r);
                        for (int k = kv; k < k1; k++) {
                            float g = gs.getAtIndex(JAVA_FLOAT, go + off + k);
                            accB[k - k0] += g;
                            accW[k - k0] += g * (xs.getAtIndex(JAVA_FLOAT, xo + off + k) - mu) * rs0;
                        }
                        continue;
                    }
                    double mu = Access.get(ms, t, mo + r), rs0 = Access.get(rs, t, ro + r);
                    for (int k = k0; k < k1; k++) {
                        double g = Access.get(gs, t, go + off + k);
                        accB[k - k0] += g;
                        accW[k - k0] += g * (Access.get(xs, t, xo + off + k) - mu) * rs0;
                    }
                }
                for (int k = k0; k < k1; k++) {
                    if (gws != null) Access.set(gws, t, gw.storageOffset() + k, accW[k - k0]);
                    if (gbs != null) Access.set(gbs, t, gb.storageOffset() + k, accB[k - k0]);
                }
            }
        });
    }
}
