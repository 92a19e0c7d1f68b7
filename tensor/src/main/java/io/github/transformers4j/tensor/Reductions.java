package io.github.transformers4j.tensor;

import java.util.Arrays;

/** Sum, mean, var, max/min and arg-reductions over dims, with keepdim. */
final class Reductions {
    private Reductions() {}

    /** Sorted unique wrapped dims. */
    static int[] normDims(String op, int[] dims, int rank) {
        boolean[] on = new boolean[Math.max(rank, 1)];
        for (int d : dims) {
            int w = Shape.wrapDim(op, d, rank);
            if (on[w]) throw new IllegalArgumentException(op + ": dim " + d + " appears more than once in " + Arrays.toString(dims));
            on[w] = true;
        }
        return java.util.stream.IntStream.range(0, rank).filter(i -> on[i]).toArray();
    }

    static int[] reducedShape(int[] shape, int[] dims, boolean keepdim) {
        boolean[] on = new boolean[shape.length];
        for (int d : dims) on[d] = true;
        int[] out = new int[keepdim ? shape.length : shape.length - dims.length];
        for (int i = 0, k = 0; i < shape.length; i++) {
            if (!on[i]) out[k++] = shape[i];
            else if (keepdim) out[k++] = 1;
        }
        return out;
    }

    /**
     * Runs a backend reduction of x over dims: x is made contiguous with the reduced dims adjacent (permuting them
     * last when they are not), then viewed as [outer, n, inner].
     */
    private static Tensor[] run(ReduceOp op, Tensor x, int[] dims, boolean keepdim, DType valueType) {
        int[] shape = x.shape();
        boolean adjacent = dims.length == 0 || dims[dims.length - 1] - dims[0] == dims.length - 1;
        Tensor src;
        long outer = 1, n = 1, inner = 1;
        if (adjacent && dims.length > 0) {
            src = x.isContiguous() ? x : Views.copy(x.detach());
            for (int i = 0; i < dims[0]; i++) outer *= shape[i];
            for (int d : dims) n *= shape[d];
            for (int i = dims[dims.length - 1] + 1; i < shape.length; i++) inner *= shape[i];
        } else {
            int[] perm = new int[shape.length];
            int k = 0;
            boolean[] on = new boolean[shape.length];
            for (int d : dims) on[d] = true;
            for (int i = 0; i < shape.length; i++) if (!on[i]) perm[k++] = i;
            for (int d : dims) perm[k++] = d;
            src = Views.copy(x.detach().permute(perm));
            for (int i = 0; i < shape.length; i++) {
                if (on[i]) n *= shape[i];
                else outer *= shape[i];
            }
        }
        int[] outShape = reducedShape(shape, dims, keepdim);
        if (n == 0 && op != ReduceOp.SUM) {
            throw new IllegalArgumentException(op.name().toLowerCase() + ": cannot reduce an empty dimension of shape " + Shape.str(shape));
        }
        Tensor values = op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN ? null : Tensor.empty(valueType, x.device(), outShape);
        Tensor indices = op == ReduceOp.SUM ? null : Tensor.empty(DType.I64, x.device(), outShape);
        x.backend().reduce(op, src, outer, n, inner, values, indices);
        return new Tensor[] {values, indices};
    }

    static Tensor sum(Tensor x, int[] dims, boolean keepdim) {
        int[] d = normDims("sum", dims, x.dim());
        if (x.dim() == 0) return x.dtype().isFloatingPoint() ? x.clone() : x.to(DType.I64);
        DType vt = x.dtype().isFloatingPoint() ? x.dtype() : DType.I64;
        Tensor out = run(ReduceOp.SUM, x, d, keepdim, vt)[0];
        int[] shape = x.shape();
        int[] kept = reducedShape(shape, d, true);
        return Autograd.record("sum", out, g -> new Tensor[] {g.reshape(kept).expand(shape)}, x);
    }

    static Tensor mean(Tensor x, int[] dims, boolean keepdim) {
        if (!x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("mean: needs a floating-point tensor, got " + x.dtype() + "; convert with to(DType.F32)");
        }
        int[] d = normDims("mean", dims, x.dim());
        long n = 1;
        for (int i : d) n *= x.shape()[i];
        return sum(x, d, keepdim).div((double) n);
    }

    static Tensor var(Tensor x, int[] dims, int correction, boolean keepdim) {
        int[] d = normDims("var", dims, x.dim());
        long n = 1;
        for (int i : d) n *= x.shape()[i];
        Tensor centered = x.sub(mean(x, d, true));
        return sum(centered.square(), d, keepdim).div((double) Math.max(n - correction, 0));
    }

    /** max/min values over one dim (or all when {@code all}); the gradient goes to the selected (first) position. */
    static Tensor extreme(Tensor x, ReduceOp op, int dim, boolean keepdim, boolean all) {
        if (all) return extreme(x.reshape(-1), op, 0, false, false);
        int d = Shape.wrapDim(op.name().toLowerCase(), dim, x.dim());
        if (x.dim() == 0) return x.clone();
        Tensor[] r = run(op, x, new int[] {d}, keepdim, x.dtype());
        Tensor values = r[0];
        Tensor idx = keepdim ? r[1] : r[1].unsqueeze(d);
        int[] shape = x.shape();
        return Autograd.record(op.name().toLowerCase(), values, g -> {
            Tensor gk = keepdim ? g : g.unsqueeze(d);
            return new Tensor[] {Tensor.full(0, g.dtype(), g.device(), shape).scatterAdd(d, idx, gk)};
        }, x);
    }

    static Tensor arg(Tensor x, ReduceOp op, int dim, boolean keepdim) {
        if (x.dim() == 0) return Tensor.zeros(DType.I64);
        int d = Shape.wrapDim(op.name().toLowerCase(), dim, x.dim());
        return run(op, x, new int[] {d}, keepdim, x.dtype())[1];
    }

    /** Sums a broadcast gradient back to {@code shape} (the inverse of broadcasting). */
    static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        int[] dims = java.util.stream.IntStream.range(0, gs.length)
                .filter(i -> i < lead || (shape[i - lead] == 1 && gs[i] != 1)).toArray();
        Tensor s = dims.length == 0 ? g : sum(g, dims, true);
        return s.reshape(shape);
    }
}
