package io.github.transformers4j.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Column sums of a row-major float block in double precision, {@link #WIDTH} columns at a time: each column's floats
 * are widened and added in row order, so the result is bit for bit that of a scalar {@code double} loop over the
 * rows (the order that makes the reductions deterministic), only several columns per instruction.
 */
final class ColumnSums {
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen to one double vector. */
    private static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Columns per call: four double vectors, four independent addition chains. */
    static final int WIDTH = 4 * DS.length();

    private ColumnSums() {}

    /** out[at + c] = sum over r in [0, rows) of x[base + c + r * stride] (element indices), c in [0, WIDTH). */
    static void sum(MemorySegment x, long base, long stride, long rows, double[] out, int at) {
        int l = DS.length();
        DoubleVector s0 = DoubleVector.zero(DS), s1 = s0, s2 = s0, s3 = s0;
        for (long r = 0; r < rows; r++) {
            long b = (base + r * stride) * Float.BYTES;
            s0 = s0.add(widen(x, b));
            s1 = s1.add(widen(x, b + l * Float.BYTES));
            s2 = s2.add(widen(x, b + 2L * l * Float.BYTES));
            s3 = s3.add(widen(x, b + 3L * l * Float.BYTES));
        }
        s0.intoArray(out, at);
        s1.intoArray(out, at + l);
        s2.intoArray(out, at + 2 * l);
        s3.intoArray(out, at + 3 * l);
    }

    /** Columns per {@link #layerNormParams} call: two double vectors each for the weight and the bias gradient. */
    static final int LN_WIDTH = 2 * DS.length();

    /**
     * LayerNorm's parameter gradients for columns [k, k + LN_WIDTH): gw[c] = sum_r gy[r, c] (x[r, c] - mean[r]) rstd[r]
     * (each product in float, as the scalar loop computes it) and gb[c] = sum_r gy[r, c], in double, rows in order.
     * gy and x are row-major with d columns from element offsets go and xo; mean and rstd from mo and ro.
     */
    static void layerNormParams(MemorySegment gy, long go, MemorySegment x, long xo, MemorySegment mean, long mo, MemorySegment rstd,
            long ro, int rows, int d, int k, double[] gw, double[] gb, int at) {
        int l = DS.length();
        DoubleVector w0 = DoubleVector.zero(DS), w1 = w0, b0 = w0, b1 = w0;
        for (int r = 0; r < rows; r++) {
            float mu = mean.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, mo + r);
            float rs = rstd.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, ro + r);
            long g = (go + (long) r * d + k) * Float.BYTES, xb = (xo + (long) r * d + k) * Float.BYTES;
            FloatVector g0 = FloatVector.fromMemorySegment(FH, gy, g, NO), g1 = FloatVector.fromMemorySegment(FH, gy, g + l * Float.BYTES, NO);
            FloatVector x0 = FloatVector.fromMemorySegment(FH, x, xb, NO), x1 = FloatVector.fromMemorySegment(FH, x, xb + l * Float.BYTES, NO);
            w0 = w0.add(toDouble(g0.mul(x0.sub(mu)).mul(rs)));
            w1 = w1.add(toDouble(g1.mul(x1.sub(mu)).mul(rs)));
            b0 = b0.add(toDouble(g0));
            b1 = b1.add(toDouble(g1));
        }
        w0.intoArray(gw, at);
        w1.intoArray(gw, at + l);
        b0.intoArray(gb, at);
        b1.intoArray(gb, at + l);
    }

    private static DoubleVector toDouble(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, DS, 0);
    }

    private static DoubleVector widen(MemorySegment x, long byteOffset) {
        return (DoubleVector) FloatVector.fromMemorySegment(FH, x, byteOffset, NO).convertShape(VectorOperators.F2D, DS, 0);
    }
}
