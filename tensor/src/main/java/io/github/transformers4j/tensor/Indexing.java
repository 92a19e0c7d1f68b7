package io.github.transformers4j.tensor;

/** index_select / gather / scatter_add / index_add; out-of-range indices fail with the value and the bound. */
final class Indexing {
    private Indexing() {}

    static Tensor checkIndex(String op, Tensor index) {
        if (index.dtype() != DType.I64 && index.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": index must be I64 or I32, got " + index.dtype() + " " + Shape.str(index.shape()));
        }
        return index.to(DType.I64).contiguous();
    }

    static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        if (index.dim() > 1) {
            throw new IllegalArgumentException("indexSelect: index must be 1-D, got shape " + Shape.str(index.shape()));
        }
        Tensor idx = checkIndex("indexSelect", index).reshape(-1);
        int d = Shape.wrapDim("indexSelect", dim, x.dim());
        int[] shape = x.shape();
        long outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= shape[i];
        for (int i = d + 1; i < shape.length; i++) inner *= shape[i];
        int[] outShape = shape.clone();
        outShape[d] = idx.size(0);
        Tensor out = Tensor.empty(x.dtype(), x.device(), outShape);
        long n = shape[d], outerF = outer, innerF = inner;
        x.backend().indexSelect(x.contiguous(), outer, n, inner, idx, out);
        return Autograd.record("index_select", out, g -> {
            Tensor z = Tensor.full(0, g.dtype(), g.device(), shape);
            z.backend().indexAdd(z, outerF, n, innerF, idx, g.contiguous());
            return new Tensor[] {z};
        }, x);
    }

    static Tensor indexAdd(Tensor x, int dim, Tensor index, Tensor src) {
        Tensor idx = checkIndex("indexAdd", index).reshape(-1);
        int d = Shape.wrapDim("indexAdd", dim, x.dim());
        int[] shape = x.shape();
        int[] expect = shape.clone();
        expect[d] = idx.size(0);
        if (!java.util.Arrays.equals(expect, src.shape())) {
            throw new IllegalArgumentException("indexAdd: source shape " + Shape.str(src.shape()) + " should be " + Shape.str(expect)
                    + " for index of length " + idx.size(0) + " along dim " + d + " of " + Shape.str(shape));
        }
        long outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= shape[i];
        for (int i = d + 1; i < shape.length; i++) inner *= shape[i];
        Tensor out = Views.copy(x.detach());
        x.backend().indexAdd(out, outer, shape[d], inner, idx, src.to(x.dtype()).contiguous());
        return Autograd.record("index_add", out, g -> new Tensor[] {g, src.requiresGrad ? indexSelect(g, d, idx) : null}, x, src);
    }

    private static void checkGatherShapes(String op, Tensor x, int d, Tensor index) {
        if (index.dim() != x.dim()) {
            throw new IllegalArgumentException(op + ": index rank " + index.dim() + " " + Shape.str(index.shape())
                    + " must equal input rank " + x.dim() + " " + Shape.str(x.shape()));
        }
        for (int i = 0; i < x.dim(); i++) {
            if (i != d && index.size(i) > x.size(i)) {
                throw new IllegalArgumentException(op + ": index " + Shape.str(index.shape()) + " is larger than input "
                        + Shape.str(x.shape()) + " in dim " + i);
            }
        }
    }

    static Tensor gather(Tensor x, int dim, Tensor index) {
        int d = Shape.wrapDim("gather", dim, x.dim());
        checkGatherShapes("gather", x, d, index);
        Tensor idx = checkIndex("gather", index);
        Tensor out = Tensor.empty(x.dtype(), x.device(), idx.shape());
        x.backend().gather(x, d, idx, out);
        int[] shape = x.shape();
        return Autograd.record("gather", out, g -> {
            Tensor z = Tensor.full(0, g.dtype(), g.device(), shape);
            z.backend().scatterAdd(z, d, idx, g.contiguous());
            return new Tensor[] {z};
        }, x);
    }

    static Tensor scatterAdd(Tensor x, int dim, Tensor index, Tensor src) {
        int d = Shape.wrapDim("scatterAdd", dim, x.dim());
        checkGatherShapes("scatterAdd", x, d, index);
        for (int i = 0; i < index.dim(); i++) {
            if (index.size(i) > src.size(i)) {
                throw new IllegalArgumentException("scatterAdd: index " + Shape.str(index.shape()) + " is larger than src "
                        + Shape.str(src.shape()) + " in dim " + i);
            }
        }
        Tensor idx = checkIndex("scatterAdd", index);
        Tensor out = Views.copy(x.detach());
        Tensor s = src.to(x.dtype());
        // only the part of src covered by index is scattered
        for (int i = 0; i < idx.dim(); i++) if (s.size(i) != idx.size(i)) s = Views.rawNarrow(s, i, 0, idx.size(i));
        x.backend().scatterAdd(out, d, idx, s.contiguous());
        int[] srcShape = src.shape();
        return Autograd.record("scatter_add", out, g -> {
            Tensor gs = null;
            if (src.requiresGrad) {
                gs = gather(g, d, idx);
                if (!java.util.Arrays.equals(gs.shape(), srcShape)) {
                    Tensor z = Tensor.full(0, g.dtype(), g.device(), srcShape);
                    Tensor region = z;
                    for (int i = 0; i < idx.dim(); i++) region = Views.rawNarrow(region, i, 0, idx.size(i));
                    z.backend().copy(gs, region);
                    gs = z;
                }
            }
            return new Tensor[] {g, gs};
        }, x, src);
    }
}
