package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.ReduceOp;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Reductions of x [outer, n, inner] over n. Sums accumulate in double in a fixed order (deterministic). */
final class CpuReduce {
    private CpuReduce() {}

    static void reduce(ReduceOp op, Tensor x, long outer, long n, long inner, Tensor values, Tensor indices) {
        MemorySegment xs = Access.seg(x);
        MemorySegment vs = values == null ? null : Access.seg(values);
        MemorySegment is = indices == null ? null : Access.seg(indices);
        long xo = x.storageOffset(), vo = values == null ? 0 : values.storageOffset(), io = indices == null ? 0 : indices.storageOffset();
        DType t = x.dtype(), vt = values == null ? null : values.dtype();
        boolean f32 = t == DType.F32;
        int grain = (int) Math.max(1, 32768 / Math.max(n, 1));
        if (inner == 1) {
            Parallel.forRange((int) outer, grain, (a, b) -> {
                for (int o = a; o < b; o++) {
                    long base = xo + o * n;
                    if (op == ReduceOp.SUM) {
                        double acc = 0;
                        if (f32) for (long k = 0; k < n; k++) acc += xs.getAtIndex(JAVA_FLOAT, base + k);
                        else for (long k = 0; k < n; k++) acc += Access.get(xs, t, base + k);
                        Access.set(vs, vt, vo + o, acc);
                    } else {
                        extreme(op, xs, t, base, 1, n, vs, vt, vo + o, is, io + o);
                    }
                }
            });
            return;
        }
        // inner > 1: each task owns a block of columns and walks n in order
        int block = inner >= 128 ? 64 : 256; // blocks narrow enough that a 128-wide bias gradient gives both cores work
        long blocks = outer * ((inner + block - 1) / block);
        long perOuter = (inner + block - 1) / block;
        Parallel.forRange((int) blocks, Math.max(1, grain / block), (a, b) -> {
            double[] acc = new double[block];
            for (int blk = a; blk < b; blk++) {
                long o = blk / perOuter, j0 = (blk % perOuter) * block, j1 = Math.min(inner, j0 + block);
                int w = (int) (j1 - j0);
                if (op == ReduceOp.SUM) {
                    // f32: whole vectors of columns first (ColumnSums, the same sums), the rest one column at a time
                    int jv = 0;
                    if (f32) {
                        for (; jv + ColumnSums.WIDTH <= w; jv += ColumnSums.WIDTH)
                            ColumnSums.sum(xs, xo + o * n * inner + j0 + jv, inner, n, acc, jv);
                    }
                    java.util.Arrays.fill(acc, jv, w, 0);
                    for (long k = 0; k < n && jv < w; k++) {
                        long base = xo + (o * n + k) * inner + j0;
                        if (f32) for (int j = jv; j < w; j++) acc[j] += xs.getAtIndex(JAVA_FLOAT, base + j);
                        else for (int j = jv; j < w; j++) acc[j] += Access.get(xs, t, base + j);
                    }
                    for (int j = 0; j < w; j++) Access.set(vs, vt, vo + o * inner + j0 + j, acc[j]);
                } else {
                    for (int j = 0; j < w; j++) {
                        long col = o * inner + j0 + j;
                        extreme(op, xs, t, xo + o * n * inner + j0 + j, inner, n, vs, vt, vo + col, is, io + col);
                    }
                }
            }
        });
    }

    private static void extreme(ReduceOp op, MemorySegment xs, DType t, long base, long stride, long n,
            MemorySegment vs, DType vt, long vIndex, MemorySegment is, long iIndex) {
        boolean max = op == ReduceOp.MAX || op == ReduceOp.ARGMAX;
        double best = Access.get(xs, t, base);
        long bestK = 0;
        for (long k = 1; k < n && !Double.isNaN(best); k++) {
            double v = Access.get(xs, t, base + k * stride);
            if (Double.isNaN(v) || (max ? v > best : v < best)) {
                best = v;
                bestK = k;
            }
        }
        if (vs != null) Access.set(vs, vt, vIndex, best);
        if (is != null) is.setAtIndex(JAVA_LONG, iIndex, bestK);
    }
}
