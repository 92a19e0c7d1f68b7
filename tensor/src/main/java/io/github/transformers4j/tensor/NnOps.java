package io.github.transformers4j.tensor;

/**
 * Fused neural-network ops with their own backward: softmax, layer norm, embedding, dropout, conv2d.
 * {@code nn.functional.F} exposes these with PyTorch's argument names.
 */
public final class NnOps {
    private NnOps() {}

    private static void checkFloat(String op, Tensor x) {
        if (!x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(op + ": needs a floating-point tensor, got " + x.dtype() + " " + Shape.str(x.shape()));
        }
    }

    /** Softmax or log-softmax over {@code dim}; computed over the last dim after a transpose when needed. */
    public static Tensor softmax(Tensor x, int dim, boolean log) {
        checkFloat(log ? "logSoftmax" : "softmax", x);
        int d = Shape.wrapDim("softmax", dim, x.dim());
        if (x.dim() == 0) return log ? Tensor.zerosLike(x) : Tensor.onesLike(x);
        if (d != x.dim() - 1) return softmax(x.transpose(d, -1), -1, log).transpose(d, -1);
        Tensor xc = x.contiguous();
        Tensor out = Tensor.emptyLike(xc);
        x.backend().softmax(xc, out, log);
        return Autograd.record(log ? "log_softmax" : "softmax", out, g -> {
            Tensor gx = Tensor.emptyLike(out);
            out.backend().softmaxBackward(out, g.contiguous(), gx, log);
            return new Tensor[] {gx};
        }, x);
    }

    /**
     * Layer normalization over the last {@code normalizedDims} dims: (x - mean) / sqrt(var + eps) * weight + bias,
     * with the biased variance. weight and bias may be null.
     */
    public static Tensor layerNorm(Tensor x, int normalizedDims, Tensor weight, Tensor bias, double eps) {
        checkFloat("layerNorm", x);
        if (normalizedDims < 1 || normalizedDims > x.dim()) {
            throw new IllegalArgumentException("layerNorm: cannot normalize the last " + normalizedDims + " dims of " + Shape.str(x.shape()));
        }
        int[] shape = x.shape();
        int[] normShape = java.util.Arrays.copyOfRange(shape, shape.length - normalizedDims, shape.length);
        for (Tensor p : new Tensor[] {weight, bias}) {
            if (p != null && !java.util.Arrays.equals(p.shape(), normShape)) {
                throw new IllegalArgumentException("layerNorm: weight/bias shape " + Shape.str(p.shape()) + " should be "
                        + Shape.str(normShape) + " for input " + Shape.str(shape));
            }
        }
        int dsize = (int) Shape.numel(normShape);
        int rows = (int) (x.numel() / Math.max(dsize, 1));
        Tensor x2 = Views.rawView(x.contiguous(), rows, dsize);
        Tensor w = weight == null ? null : weight.to(x.dtype()).contiguous();
        Tensor b = bias == null ? null : bias.to(x.dtype()).contiguous();
        Tensor y = Tensor.empty(x.dtype(), x.device(), shape);
        Tensor mean = Tensor.empty(x.dtype(), x.device(), rows);
        Tensor rstd = Tensor.empty(x.dtype(), x.device(), rows);
        x.backend().layerNorm(x2, w, b, eps, Views.rawView(y, rows, dsize), mean, rstd);
        return Autograd.record("layer_norm", y, g -> {
            Tensor gx = Tensor.empty(x.dtype(), x.device(), shape);
            Tensor gw = weight != null && weight.requiresGrad ? Tensor.empty(x.dtype(), x.device(), normShape) : null;
            Tensor gb = bias != null && bias.requiresGrad ? Tensor.empty(x.dtype(), x.device(), normShape) : null;
            x.backend().layerNormBackward(Views.rawView(g.contiguous(), rows, dsize), x2, w, mean, rstd,
                    Views.rawView(gx, rows, dsize), gw == null ? null : Views.rawView(gw, dsize), gb == null ? null : Views.rawView(gb, dsize));
            return new Tensor[] {gx, gw, gb};
        }, x, weight, bias);
    }

    /**
     * Rows of {@code weight} [num, dim] picked by integer {@code indices} (any shape): output indices.shape + [dim].
     * The row at {@code paddingIdx} (if >= 0) receives no gradient.
     */
    public static Tensor embedding(Tensor weight, Tensor indices, int paddingIdx) {
        if (weight.dim() != 2) throw new IllegalArgumentException("embedding: weight must be 2-D, got " + Shape.str(weight.shape()));
        Tensor idx = Indexing.checkIndex("embedding", indices).reshape(-1);
        int num = weight.size(0), dim = weight.size(1);
        int[] is = indices.shape();
        int[] outShape = java.util.Arrays.copyOf(is, is.length + 1);
        outShape[is.length] = dim;
        Tensor out = Tensor.empty(weight.dtype(), weight.device(), outShape);
        weight.backend().indexSelect(weight.contiguous(), 1, num, dim, idx, Views.rawView(out, idx.size(0), dim));
        return Autograd.record("embedding", out, g -> {
            Tensor gw = Tensor.full(0, g.dtype(), g.device(), num, dim);
            g.backend().indexAdd(gw, 1, num, dim, idx, Views.rawView(g.contiguous(), idx.size(0), dim));
            if (paddingIdx >= 0 && paddingIdx < num) g.backend().fill(Views.rawNarrow(gw, 0, paddingIdx, 1), 0);
            return new Tensor[] {gw};
        }, weight);
    }

    /** Inverted dropout: zeroes elements with probability p and scales the rest by 1/(1-p); identity when not training. */
    public static Tensor dropout(Tensor x, double p, boolean training, Random4j rng) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("dropout: probability must be in [0, 1], got " + p);
        if (!training || p == 0) return x;
        if (p == 1) return x.mul(0.0);
        Tensor u = Random.fill(Backend.Distribution.UNIFORM, rng, x.dtype(), x.device(), x.shape(), 0, 1);
        Tensor mask = u.ge(p).to(x.dtype()).mul(1.0 / (1.0 - p));
        return x.mul(mask);
    }

    /** x [N, C, H, W] to columns [N, C*kh*kw, OH*OW]. */
    public static Tensor im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw) {
        if (x.dim() != 4) throw new IllegalArgumentException("im2col: expected input [N, C, H, W], got " + Shape.str(x.shape()));
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        int oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("conv2d: kernel " + kh + "x" + kw + " larger than padded input " + Shape.str(x.shape()));
        }
        Tensor xc = x.contiguous();
        Tensor cols = Tensor.empty(x.dtype(), x.device(), n, c * kh * kw, oh * ow);
        x.backend().im2col(xc, kh, kw, sh, sw, ph, pw, cols);
        int[] shape = x.shape();
        return Autograd.record("im2col", cols, g -> {
            Tensor gx = Tensor.full(0, g.dtype(), g.device(), shape);
            g.backend().col2im(g.contiguous(), kh, kw, sh, sw, ph, pw, gx);
            return new Tensor[] {gx};
        }, x);
    }

    /** 2-D convolution (cross-correlation as in PyTorch): x [N, C, H, W], weight [O, C, kh, kw], bias [O] or null. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        if (x.dim() != 4 || weight.dim() != 4) {
            throw new IllegalArgumentException("conv2d: expected input [N, C, H, W] and weight [O, C, kh, kw], got "
                    + Shape.str(x.shape()) + " and " + Shape.str(weight.shape()));
        }
        if (x.size(1) != weight.size(1)) {
            throw new IllegalArgumentException("conv2d: input has " + x.size(1) + " channels " + Shape.str(x.shape())
                    + " but weight expects " + weight.size(1) + " " + Shape.str(weight.shape()));
        }
        int n = x.size(0), o = weight.size(0), kh = weight.size(2), kw = weight.size(3);
        int oh = (x.size(2) + 2 * padding - kh) / stride + 1, ow = (x.size(3) + 2 * padding - kw) / stride + 1;
        Tensor cols;
        if (stride == kh && stride == kw && padding == 0 && x.size(2) % kh == 0 && x.size(3) % kw == 0) {
            // non-overlapping patches: im2col is a pure permutation [N, C, OH, kh, OW, kw] -> [N, C, kh, kw, OH, OW]
            cols = x.reshape(n, x.size(1), oh, kh, ow, kw).permute(0, 1, 3, 5, 2, 4).reshape(n, x.size(1) * kh * kw, oh * ow);
        } else {
            cols = im2col(x, kh, kw, stride, stride, padding, padding);
        }
        Tensor y = weight.reshape(o, -1).matmul(cols); // [N, O, OH*OW]
        if (bias != null) y = y.add(bias.reshape(1, o, 1));
        return y.reshape(n, o, oh, ow);
    }

    /**
     * Fused Adam/AdamW update in place (no autograd), PyTorch's formula and order of operations. p, g, m, v have
     * one shape and dtype; step counts from 1; decoupled = AdamW (decay multiplies p), else Adam (decay added to g).
     */
    public static void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step, boolean decoupled) {
        for (Tensor t : new Tensor[] {g, m, v}) {
            if (!java.util.Arrays.equals(t.shape(), p.shape()) || t.dtype() != p.dtype() || !t.isContiguous()) {
                throw new IllegalArgumentException("adamStep: tensors must match the parameter " + Shape.str(p.shape()) + " " + p.dtype()
                        + " and be contiguous, got " + Shape.str(t.shape()) + " " + t.dtype());
            }
        }
        if (!p.isContiguous()) throw new IllegalArgumentException("adamStep: parameter must be contiguous");
        p.backend().adamStep(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled);
    }
}
