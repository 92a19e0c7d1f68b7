package io.github.transformers4j.tensor;

import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/** A plain n-d array of doubles for writing naive reference implementations in tests. */
record Nd(int[] shape, double[] data) {
    static Nd of(Tensor t) {
        return new Nd(t.shape(), t.toDoubleArray());
    }

    static Nd zeros(int... shape) {
        return new Nd(shape, new double[(int) Shape.numel(shape)]);
    }

    int rank() {
        return shape.length;
    }

    int flat(int... idx) {
        int f = 0;
        for (int i = 0; i < shape.length; i++) f = f * shape[i] + idx[i];
        return f;
    }

    double get(int... idx) {
        return data[flat(idx)];
    }

    void set(double v, int... idx) {
        data[flat(idx)] = v;
    }

    /** Element at idx of a broadcast target shape (right-aligned; size-1 dims repeat). */
    double getBroadcast(int[] idx) {
        int f = 0, lead = idx.length - shape.length;
        for (int i = 0; i < shape.length; i++) f = f * shape[i] + (shape[i] == 1 ? 0 : idx[i + lead]);
        return data[f];
    }

    static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = shape[i] == 0 ? 0 : flat % shape[i];
            flat = shape[i] == 0 ? 0 : flat / shape[i];
        }
        return idx;
    }

    Nd map(DoubleUnaryOperator f) {
        double[] o = new double[data.length];
        for (int i = 0; i < o.length; i++) o[i] = f.applyAsDouble(data[i]);
        return new Nd(shape, o);
    }

    static Nd zip(Nd a, Nd b, DoubleBinaryOperator f) {
        int[] shape = Shape.broadcast("ref", a.shape, b.shape);
        Nd out = zeros(shape);
        for (int i = 0; i < out.data.length; i++) {
            int[] idx = unravel(i, shape);
            out.data[i] = f.applyAsDouble(a.getBroadcast(idx), b.getBroadcast(idx));
        }
        return out;
    }

    /** Reduction over one dim with an accumulator function (start value, combine). */
    Nd reduce(int dim, boolean keepdim, double start, DoubleBinaryOperator f) {
        int[] outShape = shape.clone();
        outShape[dim] = 1;
        Nd out = zeros(outShape);
        Arrays.fill(out.data, start);
        for (int i = 0; i < data.length; i++) {
            int[] idx = unravel(i, shape);
            idx[dim] = 0;
            int o = out.flat(idx);
            out.data[o] = f.applyAsDouble(out.data[o], data[i]);
        }
        if (keepdim) return out;
        int[] sq = new int[shape.length - 1];
        for (int i = 0, k = 0; i < shape.length; i++) if (i != dim) sq[k++] = shape[i];
        return new Nd(sq, out.data);
    }

    Nd permute(int... dims) {
        int[] ns = new int[dims.length];
        for (int i = 0; i < dims.length; i++) ns[i] = shape[dims[i]];
        Nd out = zeros(ns);
        for (int i = 0; i < out.data.length; i++) {
            int[] oi = unravel(i, ns), si = new int[dims.length];
            for (int k = 0; k < dims.length; k++) si[dims[k]] = oi[k];
            out.data[i] = get(si);
        }
        return out;
    }

    Nd reshape(int... ns) {
        return new Nd(ns, data.clone());
    }
}
