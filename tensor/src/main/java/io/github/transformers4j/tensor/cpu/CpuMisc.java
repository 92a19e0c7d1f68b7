package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Random fills, im2col/col2im and the Adam update. */
final class CpuMisc {
    private CpuMisc() {}

    static void random(Tensor out, Backend.Distribution kind, long seed, long offset, double a, double b) {
        MemorySegment os = Access.seg(out);
        long oo = out.storageOffset();
        DType t = out.dtype();
        Parallel.forRange(Math.toIntExact(out.numel()), 4096, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                double v = switch (kind) {
                    case UNIFORM -> a + (b - a) * Random4j.uniformFloat(Random4j.bits(seed, offset, i));
                    case NORMAL -> a + b * Random4j.normal(seed, offset, i);
                    case INT -> a + (double) (((Random4j.bits(seed, offset, i) & 0xFFFFFFFFL) * (long) (b - a)) >>> 32);
                };
                Access.set(os, t, oo + i, v);
            }
        });
    }

    static void im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor cols) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        MemorySegment xs = Access.seg(x), cs = Access.seg(cols);
        long xo = x.storageOffset(), co = cols.storageOffset();
        DType t = x.dtype();
        Parallel.forRange(n * c, 1, (a, b) -> {
            for (int nc = a; nc < b; nc++) {
                int img = nc / c, ch = nc % c;
                for (int ki = 0; ki < kh; ki++) {
                    for (int kj = 0; kj < kw; kj++) {
                        long row = ((long) img * c * kh * kw + (long) ch * kh * kw + ki * kw + kj) * oh * ow;
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ki * dh;
                            for (int ox = 0; ox < ow; ox++) {
                                int ix = ox * sw - pw + kj * dw;
                                double v = iy >= 0 && iy < h && ix >= 0 && ix < w
                                        ? Access.get(xs, t, xo + (((long) nc * h + iy) * w + ix)) : 0;
                                Access.set(cs, t, co + row + (long) oy * ow + ox, v);
                            }
                        }
                    }
                }
            }
        });
    }

    static void col2im(Tensor cols, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor x) {
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        MemorySegment xs = Access.seg(x), cs = Access.seg(cols);
        long xo = x.storageOffset(), co = cols.storageOffset();
        DType t = x.dtype();
        Parallel.forRange(n * c, 1, (a, b) -> {
            for (int nc = a; nc < b; nc++) {
                int img = nc / c, ch = nc % c;
                for (int ki = 0; ki < kh; ki++) {
                    for (int kj = 0; kj < kw; kj++) {
                        long row = ((long) img * c * kh * kw + (long) ch * kh * kw + ki * kw + kj) * oh * ow;
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ki * dh;
                            if (iy < 0 || iy >= h) continue;
                            for (int ox = 0; ox < ow; ox++) {
                                int ix = ox * sw - pw + kj * dw;
                                if (ix < 0 || ix >= w) continue;
                                long at = xo + (((long) nc * h + iy) * w + ix);
                                Access.set(xs, t, at, Access.get(xs, t, at) + Access.get(cs, t, co + row + (long) oy * ow + ox));
                            }
                        }
                    }
                }
            }
        });
    }

    static void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step, boolean decoupled) {
        MemorySegment ps = Access.seg(p), gs = Access.seg(g), ms = Access.seg(m), vs = Access.seg(v);
        long po = p.storageOffset(), go = g.storageOffset(), mo = m.storageOffset(), vo = v.storageOffset();
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        double stepSize = lr / bc1, bc2Sqrt = Math.sqrt(bc2);
        DType t = p.dtype();
        Parallel.forRange(Math.toIntExact(p.numel()), 16384, (a, b) -> {
            for (int i = a; i < b; i++) {
                if (t == DType.F32) {
                    float pv = ps.getAtIndex(JAVA_FLOAT, po + i), gv = gs.getAtIndex(JAVA_FLOAT, go + i);
                    if (decoupled) pv *= (float) (1 - lr * weightDecay);
                    else gv += (float) weightDecay * pv;
                    float mv = (float) (beta1 * ms.getAtIndex(JAVA_FLOAT, mo + i) + (1 - beta1) * gv);
                    float vv = (float) (beta2 * vs.getAtIndex(JAVA_FLOAT, vo + i) + (1 - beta2) * gv * gv);
                    ms.setAtIndex(JAVA_FLOAT, mo + i, mv);
                    vs.setAtIndex(JAVA_FLOAT, vo + i, vv);
                    // PyTorch's order: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
                    float denom = (float) (Math.sqrt(vv) / bc2Sqrt + eps);
                    ps.setAtIndex(JAVA_FLOAT, po + i, (float) (pv - stepSize * mv / denom));
                } else {
                    double pv = Access.get(ps, t, po + i), gv = Access.get(gs, t, go + i);
                    if (decoupled) pv *= 1 - lr * weightDecay;
                    else gv += weightDecay * pv;
                    double mv = beta1 * Access.get(ms, t, mo + i) + (1 - beta1) * gv;
                    double vv = beta2 * Access.get(vs, t, vo + i) + (1 - beta2) * gv * gv;
                    Access.set(ms, t, mo + i, mv);
                    Access.set(vs, t, vo + i, vv);
                    Access.set(ps, t, po + i, pv - stepSize * mv / (Math.sqrt(vv) / bc2Sqrt + eps));
                }
            }
        });
    }
}
