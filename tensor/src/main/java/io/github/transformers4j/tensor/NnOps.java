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
    public static Tensor softmax(Tensor input, int dim, boolean log) {
        checkFloat(log ? "logSoftmax" : "softmax", input);
        Tensor x = Autocast.wide(input);
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
    public static Tensor layerNorm(Tensor input, int normalizedDims, Tensor weight, Tensor bias, double eps) {
        checkFloat("layerNorm", input);
        Tensor x = Autocast.wide(input);
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
        Backend be = x.backend();
        if (be.hasFusedDropout(x.dtype())) {
            // one pass forward and one backward, the keep decisions regenerated from (seed, offset): no mask kept
            Tensor xc = x.contiguous();
            long seed = rng.seed(), offset = rng.reserve(x.numel());
            Tensor out = Tensor.emptyLike(xc);
            be.dropout(xc, out, p, seed, offset);
            return Autograd.record("dropout", out, g -> {
                Tensor gx = Tensor.emptyLike(out);
                be.dropout(g.contiguous(), gx, p, seed, offset);
                return new Tensor[] {gx};
            }, x);
        }
        // the numbers and the scale in fp32 at least (a bf16 scale would be 1.109375 for p = 0.1), one rounding of the result
        DType wide = x.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor u = Random.fill(Backend.Distribution.UNIFORM, rng, wide, x.device(), x.shape(), 0, 1);
        Tensor mask = u.ge(p).to(wide).mul(1.0 / (1.0 - p));
        Tensor y = x.mul(mask);
        return y.dtype() == x.dtype() ? y : y.to(x.dtype());
    }

    /** x [N, C, H, W] to columns [N, C*kh*kw, OH*OW]; kernel taps dh, dw apart (dilation). */
    public static Tensor im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
        if (x.dim() != 4) throw new IllegalArgumentException("im2col: expected input [N, C, H, W], got " + Shape.str(x.shape()));
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        if (h + 2 * ph < dh * (kh - 1) + 1 || w + 2 * pw < dw * (kw - 1) + 1) {
            throw new IllegalArgumentException("conv2d: kernel " + kh + "x" + kw + (dh * dw > 1 ? " dilated " + dh + "x" + dw : "")
                    + " larger than input " + Shape.str(x.shape()) + " padded by " + ph + "x" + pw);
        }
        Tensor xc = x.contiguous();
        Tensor cols = Tensor.empty(x.dtype(), x.device(), n, c * kh * kw, oh * ow);
        x.backend().im2col(xc, kh, kw, sh, sw, ph, pw, dh, dw, cols);
        int[] shape = x.shape();
        return Autograd.record("im2col", cols, g -> {
            Tensor gx = Tensor.full(0, g.dtype(), g.device(), shape);
            g.backend().col2im(g.contiguous(), kh, kw, sh, sw, ph, pw, dh, dw, gx);
            return new Tensor[] {gx};
        }, x);
    }

    /** As {@link #conv2d(Tensor, Tensor, Tensor, int[], int[], int[], int)} with square stride and padding, no dilation or groups. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        return conv2d(x, weight, bias, new int[] {stride, stride}, new int[] {padding, padding}, new int[] {1, 1}, 1);
    }

    /**
     * 2-D convolution (cross-correlation as in PyTorch): x [N, C, H, W], weight [O, C / groups, kh, kw], bias [O] or
     * null; stride, padding (zeros) and dilation as (height, width). Output [N, O, OH, OW] with
     * OH = (H + 2 ph - dh (kh - 1) - 1) / sh + 1. Groups: input channels and outputs in {@code groups} equal blocks,
     * block g of the output seeing only block g of the input.
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        if (x.dim() != 4 || weight.dim() != 4) {
            throw new IllegalArgumentException("conv2d: expected input [N, C, H, W] and weight [O, C / groups, kh, kw], got "
                    + Shape.str(x.shape()) + " and " + Shape.str(weight.shape()));
        }
        if (stride.length != 2 || padding.length != 2 || dilation.length != 2 || stride[0] < 1 || stride[1] < 1 || padding[0] < 0
                || padding[1] < 0 || dilation[0] < 1 || dilation[1] < 1) {
            throw new IllegalArgumentException("conv2d: stride and dilation must be two values >= 1 and padding two values >= 0, got stride "
                    + java.util.Arrays.toString(stride) + ", padding " + java.util.Arrays.toString(padding) + ", dilation "
                    + java.util.Arrays.toString(dilation));
        }
        int n = x.size(0), c = x.size(1), o = weight.size(0), kh = weight.size(2), kw = weight.size(3);
        if (groups < 1 || c % groups != 0 || o % groups != 0) {
            throw new IllegalArgumentException("conv2d: groups " + groups + " must divide the input channels " + c + " " + Shape.str(x.shape())
                    + " and the output channels " + o + " " + Shape.str(weight.shape()));
        }
        if (c != weight.size(1) * groups) {
            throw new IllegalArgumentException("conv2d: input has " + c + " channels " + Shape.str(x.shape()) + " but weight "
                    + Shape.str(weight.shape()) + " expects " + weight.size(1) + (groups > 1 ? " x " + groups + " groups" : ""));
        }
        int sh = stride[0], sw = stride[1], ph = padding[0], pw = padding[1], dh = dilation[0], dw = dilation[1];
        int oh = (x.size(2) + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (x.size(3) + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        Tensor cols;
        if (sh == kh && sw == kw && ph == 0 && pw == 0 && dh == 1 && dw == 1 && x.size(2) % kh == 0 && x.size(3) % kw == 0) {
            // non-overlapping patches: im2col is a pure permutation [N, C, OH, kh, OW, kw] -> [N, C, kh, kw, OH, OW]
            cols = x.reshape(n, c, oh, kh, ow, kw).permute(0, 1, 3, 5, 2, 4).reshape(n, c * kh * kw, oh * ow);
        } else {
            cols = im2col(x, kh, kw, sh, sw, ph, pw, dh, dw);
        }
        Tensor y = groups == 1
                ? weight.reshape(o, -1).matmul(cols) // [N, O, OH*OW]
                // [G, O/G, K] @ [N, G, K, L] -> [N, G, O/G, L], K = C/G * kh * kw (cols' rows are channel-major)
                : weight.reshape(groups, o / groups, -1).matmul(cols.reshape(n, groups, c / groups * kh * kw, oh * ow)).reshape(n, o, oh * ow);
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
        p.storage.version++;
        p.backend().adamStep(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled);
    }

    /**
     * Kernel of {@link #adamStepMulti}: for every i, {@link #adamStep}'s update of (p, g, m, v)[i] with the scalars
     * read from device memory, {@code hyper} (F64, 8 per parameter: lr, beta1, beta2, eps, weight decay, lr / (1 -
     * beta1^t), sqrt(1 - beta2^t), decoupled 0/1), so that a captured step replays with the current learning rate
     * and step count; {@code lows[i]}, when not null, receives the new p rounded to its dtype (autocast's weight copy).
     * Must give the same bits as {@link Backend#adamStep}.
     */
    public interface MultiAdamKernel {
        void step(java.util.List<Tensor> p, java.util.List<Tensor> g, java.util.List<Tensor> m, java.util.List<Tensor> v,
                java.util.List<Tensor> lows, Tensor hyper);
    }

    public static final FusedOp<MultiAdamKernel> MULTI_ADAM = FusedOp.of("adam_multi_tensor", MultiAdamKernel.class);

    /** Kernel of {@link #clipGradNorm_}: the same maths over many gradients in a few launches, nothing read on the host. */
    public interface ClipGradNormKernel {
        /** Writes {norm, coef} into normCoef (F32 [2] on the device) and multiplies every gradient by coef. */
        void clip(java.util.List<Tensor> grads, double maxNorm, Tensor normCoef);
    }

    public static final FusedOp<ClipGradNormKernel> CLIP_GRAD_NORM = FusedOp.of("clip_grad_norm", ClipGradNormKernel.class);

    /**
     * Global gradient-norm clipping on the device, as {@code torch.nn.utils.clip_grad_norm_} on a GPU: norm = the L2
     * norm of all gradients together, coef = min(1, maxNorm / (norm + 1e-6)) (NaN when the norm is), every gradient
     * multiplied by coef in place (also when it is 1). Returns {norm, coef} as an F32 [2] tensor on the device; nothing
     * is read back, so a captured step can hold it.
     */
    public static Tensor clipGradNorm_(java.util.List<Tensor> grads, double maxNorm) {
        if (grads.isEmpty()) throw new IllegalArgumentException("clipGradNorm_: no gradients");
        Device device = grads.get(0).device();
        Tensor normCoef = Tensor.empty(DType.F32, device, 2);
        boolean plain = grads.stream().allMatch(g -> g.dtype() == DType.F32 && g.isContiguous() && g.device().equals(device));
        var kernel = plain ? grads.get(0).backend().kernel(CLIP_GRAD_NORM, DType.F32) : java.util.Optional.<ClipGradNormKernel>empty();
        try (var off = Grad.disabled()) {
            if (kernel.isPresent()) {
                for (Tensor g : grads) g.storage.version++;
                kernel.get().clip(grads, maxNorm, normCoef);
                return normCoef;
            }
            java.util.List<Tensor> sums = new java.util.ArrayList<>(grads.size());
            for (Tensor g : grads) sums.add(g.to(DType.F64).square().sum().reshape(1));
            Tensor norm = Tensor.cat(sums, 0).sum().sqrt();
            Tensor coef = norm.add(1e-6).reciprocal().mul(maxNorm);
            Tensor isNan = coef.ne(coef);
            coef = Tensor.where(isNan, coef, coef.clamp(Double.NEGATIVE_INFINITY, 1.0));
            for (Tensor g : grads) g.copy_(g.mul(coef.to(g.dtype())));
            normCoef.copy_(Tensor.cat(java.util.List.of(norm.reshape(1), coef.reshape(1)), 0));
            return normCoef;
        }
    }

    /** Whether {@link #adamStepMulti} would run (one device, F32, contiguous, a kernel offered). */
    public static boolean adamStepMultiOffered(java.util.List<Tensor> p, java.util.List<Tensor> g, java.util.List<Tensor> m,
            java.util.List<Tensor> v) {
        if (p.isEmpty()) return false;
        Device device = p.get(0).device();
        for (java.util.List<Tensor> list : java.util.List.of(p, g, m, v)) {
            if (list.size() != p.size()) return false;
            for (int i = 0; i < list.size(); i++) {
                Tensor t = list.get(i);
                if (t.dtype() != DType.F32 || !t.isContiguous() || !t.device().equals(device) || t.numel() != p.get(i).numel()) return false;
            }
        }
        return p.get(0).backend().kernel(MULTI_ADAM, DType.F32).isPresent();
    }

    /** The 8 scalars per parameter that {@link MultiAdamKernel} reads, in {@link Backend#adamStep}'s arithmetic. */
    public static void adamScalars(double[] out, int index, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step, boolean decoupled) {
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        int o = 8 * index;
        out[o] = lr;
        out[o + 1] = beta1;
        out[o + 2] = beta2;
        out[o + 3] = eps;
        out[o + 4] = weightDecay;
        out[o + 5] = lr / bc1;
        out[o + 6] = Math.sqrt(bc2);
        out[o + 7] = decoupled ? 1 : 0;
    }

    /**
     * Adam/AdamW over many parameters in one pass where the backend offers {@link #MULTI_ADAM} (F32, contiguous,
     * one device); returns false, changing nothing, where it does not (the caller then updates per parameter).
     * {@code hyper} is a device F64 tensor [8 * p.size()] the caller filled (see {@link #adamScalars}). The autocast
     * weight copies of the parameters, where they exist, are refreshed in the same pass.
     */
    public static boolean adamStepMulti(java.util.List<Tensor> p, java.util.List<Tensor> g, java.util.List<Tensor> m,
            java.util.List<Tensor> v, Tensor hyper) {
        if (p.isEmpty()) return true;
        if (!adamStepMultiOffered(p, g, m, v)) return false;
        var kernel = p.get(0).backend().kernel(MULTI_ADAM, DType.F32);
        java.util.List<Tensor> lows = new java.util.ArrayList<>(p.size());
        for (Tensor t : p) {
            Tensor c = Autocast.cachedCopy(t);
            lows.add(c != null && c.dtype() == DType.BF16 ? c : null); // an F16 copy is recast at its next use
        }
        for (Tensor t : p) t.storage.version++;
        kernel.get().step(p, g, m, v, lows, hyper);
        for (int i = 0; i < p.size(); i++) if (lows.get(i) != null) Autocast.markFresh(p.get(i));
        return true;
    }

    // ------------------------------------------------------------------------------------------ linear

    /**
     * x (..., K) @ weight (N, K)^T + bias (N): (..., N), as torch.nn.functional.linear. On a backend with a fused linear
     * ({@link Backend#hasFusedLinear}) this is one product with the bias added in its epilogue, and the backward is two
     * products, the bias gradient coming out of the weight-gradient product; elsewhere it is {@code matmul} then
     * {@code add}. bias may be null.
     */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        DType low = Autocast.dtype();
        if (autocastLinear(low, x, weight, bias)) {
            return mixedLinear(x.backend().kernel(MIXED_LINEAR, low).orElse(MixedLinearReference.INSTANCE), x, weight, bias, low, false);
        }
        Backend be = x.backend();
        boolean fused = be.hasFusedLinear(x.dtype()) && weight.dtype() == x.dtype() && weight.device().equals(x.device())
                && weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1)
                && (bias == null || bias.dtype() == x.dtype() && bias.device().equals(x.device()) && bias.dim() == 1
                        && bias.size(0) == weight.size(0));
        if (!fused) {
            Tensor y = x.matmul(weight.t());
            return bias == null ? y : y.add(bias);
        }
        int k = weight.size(1), n = weight.size(0);
        int rows = leadingRows(x);
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = n;
        Tensor xc = x.contiguous(), wc = weight.contiguous(), bc = bias == null ? null : bias.contiguous();
        Tensor x2 = Views.rawView(xc, rows, k);
        Tensor out = Tensor.empty(x.dtype(), x.device(), outShape);
        if (rows > 0) be.linear(x2, wc, bc, Views.rawView(out, rows, n));
        return Autograd.record("linear", out, g -> {
            Tensor g2 = Views.rawView(g.contiguous(), rows, n);
            Tensor gx = null, gw = null, gb = null;
            if (x.requiresGrad) {
                gx = Tensor.empty(x.dtype(), x.device(), x.shape());
                if (rows > 0) be.matmul(Views.rawView(g2, 1, rows, n), Views.rawView(wc, 1, n, k), Views.rawView(gx, 1, rows, k), false);
            }
            boolean needW = weight.requiresGrad, needB = bias != null && bias.requiresGrad;
            if (needW || needB) {
                gw = needW ? Tensor.empty(weight.dtype(), weight.device(), weight.shape()) : null;
                gb = needB ? Tensor.empty(bias.dtype(), bias.device(), bias.shape()) : null;
                be.linearWeightGrad(g2, x2, gw, gb);
            }
            return new Tensor[] {gx, gw, gb};
        }, x, weight, bias);
    }

    /** The rows of a product's input: the product of its sizes but the last (not numel / K, which fails for K = 0). */
    static int leadingRows(Tensor x) {
        int rows = 1;
        for (int i = 0; i < x.dim() - 1; i++) rows *= x.size(i);
        return rows;
    }

    /** Whether {@link #linear} runs as autocast's mixed product: fp32 weight (and bias), x fp32 or already low. */
    private static boolean autocastLinear(DType low, Tensor x, Tensor weight, Tensor bias) {
        return low != null && weight.dtype() == DType.F32 && (x.dtype() == DType.F32 || x.dtype() == low)
                && weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1) && weight.device().equals(x.device())
                && (bias == null || bias.dtype() == DType.F32 && bias.dim() == 1 && bias.size(0) == weight.size(0));
    }

    /**
     * {@code relu(linear(x, weight, bias))} (a transformer's feed-forward block). Under autocast one op: the ReLU in
     * the product's epilogue where the backend has one (cuBLASLt's RELU_BIAS: no pass over the activations), and the
     * backward masks the gradient by the output in one pass (out &gt; 0 exactly where the product was &gt; 0). The
     * same values as the two ops (ReLU commutes with rounding). Else the two ops.
     */
    public static Tensor linearRelu(Tensor x, Tensor weight, Tensor bias) {
        DType low = Autocast.dtype();
        if (autocastLinear(low, x, weight, bias)) {
            return mixedLinear(x.backend().kernel(MIXED_LINEAR, low).orElse(MixedLinearReference.INSTANCE), x, weight, bias, low, true);
        }
        return linear(x, weight, bias).relu();
    }

    /**
     * Kernel of {@link #linear} under autocast: low-precision operands (bf16) and output, fp32 accumulation, the bias
     * (low, as PyTorch's autocast casts it) added in fp32 before the one rounding of the output; weight and bias
     * gradients fp32. All tensors contiguous; any output may be passed null when not wanted. Backends without one run
     * {@link MixedLinearReference} (the same maths from plain ops).
     */
    public interface MixedLinearKernel {
        /** out [M, N] (low) = xLow [M, K] @ wLow [N, K]^T + bLow [N] (may be null), then max(0, .) when relu. */
        void forward(Tensor xLow, Tensor wLow, Tensor bLow, boolean relu, Tensor out);

        /** gx [M, K] (low or fp32) = gLow [M, N] @ wLow [N, K]. */
        void inputGrad(Tensor gLow, Tensor wLow, Tensor gx);

        /** gw [N, K] (fp32) = gLow^T @ xLow; gb [N] (fp32) = column sums of gLow; either may be null. */
        void weightGrad(Tensor gLow, Tensor xLow, Tensor gw, Tensor gb);
    }

    public static final FusedOp<MixedLinearKernel> MIXED_LINEAR = FusedOp.of("linear_autocast", MixedLinearKernel.class);

    /**
     * {@link MixedLinearKernel} from plain ops: the low operands widened to fp32 (exactly), multiplied and summed in
     * fp32, the bias added, the result rounded once.
     */
    static final class MixedLinearReference implements MixedLinearKernel {
        static final MixedLinearReference INSTANCE = new MixedLinearReference();

        private static Tensor wide(Tensor t) {
            return t.dtype() == DType.F32 ? t : Elementwise.rawConvert(t, DType.F32);
        }

        private static <T> T plain(java.util.function.Supplier<T> f) {
            try (var off = Grad.disabled(); var ac = Autocast.enable(null)) {
                return f.get();
            }
        }

        @Override
        public void forward(Tensor xLow, Tensor wLow, Tensor bLow, boolean relu, Tensor out) {
            Tensor y = plain(() -> {
                Tensor p = wide(xLow).matmul(wide(wLow).t());
                Tensor yb = bLow == null ? p : p.add(wide(bLow));
                return relu ? yb.relu() : yb;
            });
            out.backend().copy(y, out);
        }

        @Override
        public void inputGrad(Tensor gLow, Tensor wLow, Tensor gx) {
            gx.backend().copy(plain(() -> wide(gLow).matmul(wide(wLow))), gx);
        }

        @Override
        public void weightGrad(Tensor gLow, Tensor xLow, Tensor gw, Tensor gb) {
            Tensor g = wide(gLow);
            if (gw != null) gw.backend().copy(plain(() -> g.t().matmul(wide(xLow))), gw);
            if (gb != null) gb.backend().copy(plain(() -> g.sum(0, false)), gb);
        }
    }

    /** t contiguous and of dtype low: itself when it already is, else converted (no autograd record). */
    private static Tensor contiguousLow(Tensor t, DType low) {
        Tensor c = t.contiguous();
        return c.dtype() == low ? c : Elementwise.rawConvert(c, low);
    }

    /**
     * {@link #linear} (and {@link #linearRelu}: relu) under autocast in one op, as PyTorch's autocast: x (fp32 or
     * already low) rounded once, the weight's and bias's cached low copies, a low result; gradients of x in x's dtype,
     * of weight and bias in fp32.
     */
    private static Tensor mixedLinear(MixedLinearKernel kernel, Tensor x, Tensor weight, Tensor bias, DType low, boolean relu) {
        int k = weight.size(1), n = weight.size(0);
        int rows = leadingRows(x);
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = n;
        Tensor xLow = Views.rawView(contiguousLow(x, low), rows, k);
        Tensor wLow = Autocast.weightCopy(weight, low); // a parameter's cached copy, else converted afresh
        Tensor bLow = bias == null ? null : Autocast.weightCopy(bias, low);
        Tensor out = Tensor.empty(low, x.device(), outShape);
        if (rows > 0) kernel.forward(xLow, wLow, bLow, relu, Views.rawView(out, rows, n));
        return Autograd.record(relu ? "linear_relu" : "linear", out, g -> {
            // relu: the gradient where the output is > 0 (one pass, in the low type when g is low)
            Tensor gLow = Views.rawView(contiguousLow(relu ? Elementwise.binary(BinaryOp.RELU_BACKWARD, g, out) : g, low), rows, n);
            Tensor gx = null, gw = null, gb = null;
            if (x.requiresGrad) {
                gx = Tensor.empty(x.dtype(), x.device(), x.shape());
                if (rows > 0) kernel.inputGrad(gLow, wLow, Views.rawView(gx, rows, k));
                else gx.fill_(0);
            }
            boolean needW = weight.requiresGrad, needB = bias != null && bias.requiresGrad;
            if (needW || needB) {
                gw = needW ? Tensor.empty(weight.dtype(), weight.device(), weight.shape()) : null;
                gb = needB ? Tensor.empty(bias.dtype(), bias.device(), bias.shape()) : null;
                if (rows > 0) {
                    kernel.weightGrad(gLow, xLow, gw, gb);
                } else {
                    if (gw != null) gw.fill_(0);
                    if (gb != null) gb.fill_(0);
                }
            }
            return new Tensor[] {gx, gw, gb};
        }, x, weight, bias);
    }

    // ------------------------------------------------------------------------------------------ cross-entropy

    /**
     * Kernel of {@link #crossEntropy}: logits (M, C) contiguous, F32 or BF16 (read as they are, no log-softmax tensor),
     * targets (M) I64. The backward reads the logits again.
     */
    public interface CrossEntropyKernel {
        /** loss [M] F32 = (1 - eps)(lse - x_t) + eps (lse - mean_j x_j), 0 where t = ignoreIndex; lse [M] F32 = log sum_j exp x_j. */
        void forward(Tensor logits, Tensor target, long ignoreIndex, double smoothing, Tensor loss, Tensor lse);

        /** gLogits [M, C] (logits' dtype) = g_i (softmax_ij - (1 - eps)[j = t_i] - eps / C), 0 where ignored; g [M] F32. */
        void backward(Tensor logits, Tensor target, long ignoreIndex, double smoothing, Tensor lse, Tensor g, Tensor gLogits);
    }

    public static final FusedOp<CrossEntropyKernel> CROSS_ENTROPY = FusedOp.of("cross_entropy", CrossEntropyKernel.class);

    /**
     * Per-row cross-entropy of logits (M, C) at class indices target (M) I64: -log softmax(x)_t, with label smoothing
     * eps = {@code smoothing} ((1 - eps) nll + eps mean over classes of -log p), 0 where target = ignoreIndex. Targets
     * are not range-checked here (nn.functional.F does it). One fused op where the backend offers
     * {@link #CROSS_ENTROPY} (its fp32 result reads bf16 logits as they are); else log-softmax, gather and the mean.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target, long ignoreIndex, double smoothing) {
        int m = logits.dim() == 2 ? logits.size(0) : -1, c = logits.dim() == 2 ? logits.size(1) : -1;
        var kernel = logits.dtype() == DType.F32 || logits.dtype() == DType.BF16
                ? logits.backend().kernel(CROSS_ENTROPY, logits.dtype()).orElse(null) : null;
        if (kernel != null && m > 0 && c > 0 && target.dim() == 1 && target.size(0) == m && target.dtype() == DType.I64
                && target.device().equals(logits.device())) {
            Tensor x = logits.contiguous(), t = target.contiguous();
            Tensor loss = Tensor.empty(DType.F32, x.device(), m), lse = Tensor.empty(DType.F32, x.device(), m);
            kernel.forward(x, t, ignoreIndex, smoothing, loss, lse);
            return Autograd.record("cross_entropy", loss, g -> {
                Tensor gx = Tensor.empty(x.dtype(), x.device(), m, c);
                kernel.backward(x, t, ignoreIndex, smoothing, lse, g.to(DType.F32).contiguous(), gx);
                return new Tensor[] {gx};
            }, logits);
        }
        Tensor logp = logits.logSoftmax(-1); // (M, C); fp32 for bf16 logits under autocast
        Tensor validB = target.ne(ignoreIndex);
        Tensor safe = Tensor.where(validB, target, Tensor.full(0, DType.I64, target.device()));
        Tensor valid = validB.to(logp.dtype());
        Tensor loss = logp.gather(1, safe.unsqueeze(1)).squeeze(1).neg().mul(valid);
        if (smoothing > 0) {
            Tensor smooth = logp.mean(-1, false).neg().mul(valid);
            loss = loss.mul(1 - smoothing).add(smooth.mul(smoothing));
        }
        return loss;
    }

    // ------------------------------------------------------------------------------------------ fused attention

    /**
     * Multi-head scaled dot-product attention on head-merged layouts, as ONE autograd op: heads are repacked once into
     * (B*H, L, E) blocks, the scale rides on the score product, and the backward writes the gradient of the packed
     * projection directly (no per-head views to zero-fill and add up).
     *
     * @param q  the packed self-attention projection (B, L, 3*H*E) (columns q | k | v) when {@code kv} is null; else the
     *           queries (B, Lq, H*E)
     * @param kv null, or keys and values (B, Lk, 2*H*E) (columns k | v)
     * @param masked BOOL broadcastable to (B, H, Lq, Lk), true = not allowed; or null
     * @param additive floating-point mask broadcastable to (B, H, Lq, Lk), added to the scores; or null
     * @param dropoutP dropout on the attention weights (the random numbers {@link #dropout} would draw on them)
     * @return (B, Lq, H*E): the heads' outputs side by side. A query with no allowed key gets zeros.
     */
    public static Tensor multiHeadAttention(Tensor q, Tensor kv, int heads, Tensor masked, Tensor additive, double scale,
            double dropoutP, Random4j rng) {
        return multiHeadAttention(q, kv, heads, masked, additive, scale, dropoutP, rng, false);
    }

    /**
     * As above, with {@code causal}: query i also sees no key j > i (PyTorch's is_causal, top-left aligned), on top of
     * {@code masked}. A flash kernel that {@linkplain FlashAttentionKernel#supportsCausal supports it} skips the key
     * tiles above the diagonal; elsewhere the causal mask ({@link #causalMask}) joins {@code masked}.
     */
    public static Tensor multiHeadAttention(Tensor q, Tensor kv, int heads, Tensor masked, Tensor additive, double scale,
            double dropoutP, Random4j rng, boolean causal) {
        if (kv != null && kv.dtype() != q.dtype()) { // one of them low under autocast: both low
            return multiHeadAttention(q.to(DType.promote(q.dtype(), kv.dtype())), kv.to(DType.promote(q.dtype(), kv.dtype())), heads,
                    masked, additive, scale, dropoutP, rng, causal);
        }
        int groups = kv == null ? 3 : 1;
        if (q.dim() != 3 || q.size(2) % (groups * heads) != 0 || kv != null && (kv.dim() != 3 || kv.size(0) != q.size(0)
                || kv.size(2) != 2 * q.size(2))) {
            throw new IllegalArgumentException("multiHeadAttention: expected packed (B, L, 3*H*E) or q (B, Lq, H*E) with kv "
                    + "(B, Lk, 2*H*E), got q " + Shape.str(q.shape()) + (kv == null ? "" : ", kv " + Shape.str(kv.shape()))
                    + " for " + heads + " heads");
        }
        int b = q.size(0), lq = q.size(1), e = q.size(2) / (groups * heads), lk = kv == null ? lq : kv.size(1);
        int bh = b * heads;
        FlashAttentionKernel flash = flashKernel(q, kv == null ? q : kv, e, (long) bh * lq * lk, masked, additive, dropoutP);
        if (flash != null && (!causal || flash.supportsCausal()))
            return flashMultiHeadAttention(flash, q, kv, heads, e, masked, scale, dropoutP, rng, causal);
        if (causal) masked = withCausal(masked, lq, lk, q.device());
        // low activations under autocast (bf16 projections): the core runs in fp32, the conversions ride on the repacks
        DType ct = Autocast.isLow(q) ? DType.F32 : q.dtype();
        Tensor qh, kh, vh, packed, kvPacked = null;
        try (var off = Grad.disabled()) {
            packed = headsFirst(q, groups, heads, e, ct);                  // (G, B*H, Lq, E)
            qh = packed.select(0, 0);
            if (kv == null) {
                kh = packed.select(0, 1);
                vh = packed.select(0, 2);
            } else {
                kvPacked = headsFirst(kv, 2, heads, e, ct);                // (2, B*H, Lk, E)
                kh = kvPacked.select(0, 0);
                vh = kvPacked.select(0, 1);
            }
        }
        AttentionCore core = AttentionCore.forward(q.backend(), qh, kh, vh, b, heads, masked, additive, scale, dropoutP, rng);
        Tensor out = mergeHeads(core.out, b, heads, lq, e, q.dtype());
        Backend be = q.backend();
        Node.Backward backward = g -> {
            Tensor gh = headsFirst(g, 1, heads, e, ct).select(0, 0);
            if (kv == null) {
                Tensor d = Tensor.empty(ct, q.device(), 3, bh, lq, e);
                core.backward(be, gh, d.select(0, 0), d.select(0, 1), d.select(0, 2));
                return new Tensor[] {headsBack(d, b, heads, lq, e, q.dtype())};
            }
            Tensor dq = Tensor.empty(ct, q.device(), 1, bh, lq, e), dkv = Tensor.empty(ct, q.device(), 2, bh, lk, e);
            core.backward(be, gh, dq.select(0, 0), dkv.select(0, 0), dkv.select(0, 1));
            return new Tensor[] {headsBack(dq, b, heads, lq, e, q.dtype()), headsBack(dkv, b, heads, lk, e, q.dtype())};
        };
        return kv == null ? Autograd.record("multi_head_attention", out, backward, q)
                : Autograd.record("multi_head_attention", out, backward, q, kv);
    }

    /**
     * Fused {@code softmax(q k^T * scale + masks) v} for q (B, H, Lq, E), k (B, H, Lk, E), v (B, H, Lk, Ev) of any
     * strides: one autograd op (see {@link #multiHeadAttention}); masks as there. Returns (B, H, Lq, Ev), contiguous.
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor masked, Tensor additive, double scale,
            double dropoutP, Random4j rng) {
        return scaledDotProductAttention(q, k, v, masked, additive, scale, dropoutP, rng, false);
    }

    /** As above, with {@code causal} as in {@link #multiHeadAttention(Tensor, Tensor, int, Tensor, Tensor, double, double, Random4j, boolean)}. */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor masked, Tensor additive, double scale,
            double dropoutP, Random4j rng, boolean causal) {
        int b = q.size(0), h = q.size(1), lq = q.size(2), e = q.size(3), lk = k.size(2), ev = v.size(3);
        FlashAttentionKernel flash = ev != e || k.dtype() != q.dtype() || v.dtype() != q.dtype() ? null
                : flashKernel(q, k, e, (long) b * h * lq * lk, masked, additive, dropoutP);
        if (flash != null && (!causal || flash.supportsCausal()))
            return flashScaledDotProductAttention(flash, q, k, v, masked, scale, dropoutP, rng, causal); // bf16 read in place
        if (causal) masked = withCausal(masked, lq, lk, q.device());
        if (Autocast.isLow(q) || Autocast.isLow(k) || Autocast.isLow(v)) { // the composite runs low operands in fp32
            return scaledDotProductAttention(Autocast.wide(q), Autocast.wide(k), Autocast.wide(v), masked, additive, scale, dropoutP, rng);
        }
        Tensor qh, kh, vh;
        try (var off = Grad.disabled()) {
            qh = Views.rawView(q.contiguous(), b * h, lq, e);
            kh = Views.rawView(k.contiguous(), b * h, lk, e);
            vh = Views.rawView(v.contiguous(), b * h, lk, ev);
        }
        Backend be = q.backend();
        AttentionCore core = AttentionCore.forward(be, qh, kh, vh, b, h, masked, additive, scale, dropoutP, rng);
        Tensor out = Views.rawView(core.out, b, h, lq, ev);
        return Autograd.record("scaled_dot_product_attention", out, g -> {
            Tensor gh = Views.rawView(g.contiguous(), b * h, lq, ev);
            Tensor dq = Tensor.empty(q.dtype(), q.device(), q.shape());
            Tensor dk = Tensor.empty(k.dtype(), k.device(), k.shape()), dv = Tensor.empty(v.dtype(), v.device(), v.shape());
            core.backward(be, gh, Views.rawView(dq, b * h, lq, e), Views.rawView(dk, b * h, lk, e), Views.rawView(dv, b * h, lk, ev));
            return new Tensor[] {q.requiresGrad ? dq : null, k.requiresGrad ? dk : null, v.requiresGrad ? dv : null};
        }, q, k, v);
    }

    /**
     * Kernel of {@link #multiHeadAttention} and {@link #scaledDotProductAttention} under bf16 autocast: flash attention
     * (scores never materialised) with bf16 products accumulated in fp32 and the softmax in fp32. Operands are views
     * (B, H, L, E) of any strides whose last is 1 (the packed projections are read and written in place); see
     * {@link FlashAttention}. The backward recomputes the weights from {@code lse} and must be deterministic (no
     * floating-point atomics): same inputs, same bits.
     */
    public interface FlashAttentionKernel {
        /** Whether head dimension {@code headDim} is supported (else the op layer runs the composite). */
        boolean supports(int headDim);

        /** Whether {@link FlashAttention#causal} is honoured (else the op layer hands the causal mask over as masked). */
        default boolean supportsCausal() {
            return false;
        }

        /** Whether dropout on the weights is honoured (else calls with dropout run the composite). */
        default boolean supportsDropout() {
            return true;
        }

        /** out (B, H, Lq, E) = dropout(softmax(scale q k^T, masked)) v; lse F32 (B*H, Lq): each row's log-sum-exp. */
        void forward(FlashAttention a, Tensor out, Tensor lse);

        /** dq, dk, dv (views as q, k, v) for the output gradient dout (B, H, Lq, E); delta: F32 (B*H, Lq) scratch. */
        void backward(FlashAttention a, Tensor out, Tensor lse, Tensor dout, Tensor delta, Tensor dq, Tensor dk, Tensor dv);
    }

    /**
     * The operands of one flash attention call: q (B, H, Lq, E), k and v (B, H, Lk, E), F32, last stride 1; masked
     * BOOL broadcast to (B, H, Lq, Lk) (true = not allowed) or null; dropout on the weights with the keep decisions
     * {@link Backend#dropout}{@code (w, out, dropoutP, seed, offset)} would make on the (B*H, Lq, Lk) weights w;
     * keep: with dropout, I32 (B*H*Lq, {@link #flashKeepWords}(Lk)) that the forward fills with its keep decisions as
     * bits for the backward to read (a kernel may leave it unused), else null; causal: query i sees no key j > i
     * either (only for a kernel that {@linkplain FlashAttentionKernel#supportsCausal supports it}).
     */
    public record FlashAttention(Tensor q, Tensor k, Tensor v, Tensor masked, boolean causal, double scale, double dropoutP, long seed,
            long offset, Tensor keep) {}

    private static final java.util.Map<String, Tensor> CAUSAL = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * BOOL (Lq, Lk): true where key j lies after query i (j > i). Cached per size and device (made once, kept outside
     * memory scopes, never written): a training step does not rebuild and upload it.
     */
    public static Tensor causalMask(int lq, int lk, Device device) {
        String key = lq + "x" + lk + "@" + device;
        Tensor m = CAUSAL.get(key);
        if (m != null) return m;
        Tensor made = Memory.unscoped(() -> {
            try (var g = Grad.disabled()) {
                Tensor i = Tensor.arange(lq).view(lq, 1), j = Tensor.arange(lk).view(1, lk);
                return j.gt(i).to(device);
            }
        });
        if (CAUSAL.size() >= 256) return made; // odd sizes galore: do not grow without bound
        m = CAUSAL.putIfAbsent(key, made);
        return m != null ? m : made;
    }

    /** masked (or nothing) or the causal mask. */
    private static Tensor withCausal(Tensor masked, int lq, int lk, Device device) {
        Tensor c = causalMask(lq, lk, device);
        return masked == null ? c : masked.logicalOr(c);
    }

    /** 32-bit words per row of {@link FlashAttention#keep}: the bits of lk keys in whole tiles of 64. */
    public static int flashKeepWords(int lk) {
        return 2 * Math.ceilDiv(lk, 64);
    }

    /** The keep-bit buffer of a flash call with dropout over bh x lq rows of lk keys, else null. */
    private static Tensor flashKeep(double dropoutP, Device dev, int bh, int lq, int lk) {
        return dropoutP > 0 ? Tensor.empty(DType.I32, dev, bh * lq, flashKeepWords(lk)) : null;
    }

    public static final FusedOp<FlashAttentionKernel> FLASH_ATTENTION = FusedOp.of("flash_attention", FlashAttentionKernel.class);

    /**
     * The flash kernel when the backend offers one for head dim e and the call fits it: under bf16 autocast F32 or BF16
     * operands (the GPU's), without it F32 ones (the CPU's); no additive mask, a BOOL mask or none, dropout below 1 (or
     * none where the kernel takes none), no empty dims. Else null (the composite runs).
     */
    static FlashAttentionKernel flashKernel(Tensor q, Tensor kv, int e, long elements, Tensor masked, Tensor additive, double dropoutP) {
        // without bf16 autocast, a backend's fp32 kernel where it has one (the CPU's); with it, the bf16 one
        DType kind = Autocast.dtype() == DType.BF16 ? DType.BF16 : DType.F32;
        if (kind == DType.F32 && (q.dtype() != DType.F32 || kv.dtype() != DType.F32)
                || q.dtype() != DType.F32 && q.dtype() != DType.BF16
                || kv.dtype() != DType.F32 && kv.dtype() != DType.BF16 || additive != null
                || elements == 0 || !(dropoutP >= 0 && dropoutP < 1) || !kv.device().equals(q.device())
                || masked != null && (masked.dtype() != DType.BOOL || !masked.device().equals(q.device()))) {
            return null;
        }
        FlashAttentionKernel k = q.backend().kernel(FLASH_ATTENTION, kind).orElse(null);
        return k != null && k.supports(e) && (dropoutP == 0 || k.supportsDropout()) ? k : null;
    }

    /** (B, L, G*H*E) -> G views (B, H, L, E) of it, no copy: group g is columns [g*H*E, (g+1)*H*E). */
    private static Tensor[] headViews(Tensor x, int groups, int heads, int e) {
        int b = x.size(0), l = x.size(1);
        try (var off = Grad.disabled()) {
            Tensor v = x.view(b, l, groups, heads, e).permute(2, 0, 3, 1, 4); // (G, B, H, L, E)
            Tensor[] out = new Tensor[groups];
            for (int g = 0; g < groups; g++) out[g] = v.select(0, g);
            return out;
        }
    }

    /** The dropout stream of a flash call: the numbers the composite's fused dropout would draw ({seed, offset}). */
    private static long[] flashDropout(double dropoutP, Random4j rng, long weights) {
        if (dropoutP == 0) return new long[2];
        Random4j r = rng == null ? Random4j.global() : rng;
        return new long[] {r.seed(), r.reserve(weights)};
    }

    /** {@link #multiHeadAttention} through the flash kernel: q, k, v read from the packed projections, gradients written into packed ones. */
    static Tensor flashMultiHeadAttention(FlashAttentionKernel kernel, Tensor q, Tensor kv, int heads, int e, Tensor masked,
            double scale, double dropoutP, Random4j rng, boolean causal) {
        int b = q.size(0), lq = q.size(1), lk = kv == null ? lq : kv.size(1);
        Device dev = q.device();
        Tensor qc = lastContiguous(q, true), kvc = kv == null ? null : lastContiguous(kv, true);
        Tensor[] qkv = kv == null ? headViews(qc, 3, heads, e)
                : new Tensor[] {headViews(qc, 1, heads, e)[0], headViews(kvc, 2, heads, e)[0], headViews(kvc, 2, heads, e)[1]};
        Tensor m = masked == null ? null : Views.broadcastTo("attention", masked, new int[] {b, heads, lq, lk});
        long[] drop = flashDropout(dropoutP, rng, (long) b * heads * lq * lk);
        FlashAttention a = new FlashAttention(qkv[0], qkv[1], qkv[2], m, causal, scale, dropoutP, drop[0], drop[1],
                flashKeep(dropoutP, dev, b * heads, lq, lk));
        DType dt = q.dtype(); // F32, or BF16 activations under autocast: read and written as they are
        Tensor out = Tensor.empty(dt, dev, b, lq, heads * e), lse = Tensor.empty(DType.F32, dev, b * heads, lq);
        Tensor out4 = headViews(out, 1, heads, e)[0];
        kernel.forward(a, out4, lse);
        Node.Backward backward = g -> {
            Tensor g4 = headViews(g.to(dt).contiguous(), 1, heads, e)[0];
            Tensor delta = Tensor.empty(DType.F32, dev, b * heads, lq);
            if (kv == null) {
                Tensor d = Tensor.empty(dt, dev, b, lq, 3 * heads * e);
                Tensor[] d3 = headViews(d, 3, heads, e);
                kernel.backward(a, out4, lse, g4, delta, d3[0], d3[1], d3[2]);
                return new Tensor[] {d};
            }
            Tensor dq = Tensor.empty(dt, dev, b, lq, heads * e), dkv = Tensor.empty(dt, dev, b, lk, 2 * heads * e);
            Tensor[] d2 = headViews(dkv, 2, heads, e);
            kernel.backward(a, out4, lse, g4, delta, headViews(dq, 1, heads, e)[0], d2[0], d2[1]);
            return new Tensor[] {dq, dkv};
        };
        return kv == null ? Autograd.record("multi_head_attention", out, backward, q)
                : Autograd.record("multi_head_attention", out, backward, q, kv);
    }

    /** {@link #scaledDotProductAttention} through the flash kernel (q, k, v read through their strides). */
    static Tensor flashScaledDotProductAttention(FlashAttentionKernel kernel, Tensor q, Tensor k, Tensor v, Tensor masked,
            double scale, double dropoutP, Random4j rng, boolean causal) {
        int b = q.size(0), h = q.size(1), lq = q.size(2), e = q.size(3), lk = k.size(2);
        Device dev = q.device();
        Tensor qs = lastContiguous(q, false), ks = lastContiguous(k, false), vs = lastContiguous(v, false);
        Tensor m = masked == null ? null : Views.broadcastTo("attention", masked, new int[] {b, h, lq, lk});
        long[] drop = flashDropout(dropoutP, rng, (long) b * h * lq * lk);
        FlashAttention a = new FlashAttention(qs, ks, vs, m, causal, scale, dropoutP, drop[0], drop[1], flashKeep(dropoutP, dev, b * h, lq, lk));
        // out and the gradients in the operands' dtype (the kernel reads and writes all fp32 or all bf16); lse fp32
        DType t = q.dtype();
        Tensor out = Tensor.empty(t, dev, b, h, lq, e), lse = Tensor.empty(DType.F32, dev, b * h, lq);
        kernel.forward(a, out, lse);
        return Autograd.record("scaled_dot_product_attention", out, g -> {
            Tensor delta = Tensor.empty(DType.F32, dev, b * h, lq);
            Tensor dq = Tensor.empty(t, dev, q.shape()), dk = Tensor.empty(t, dev, k.shape()), dv = Tensor.empty(t, dev, v.shape());
            kernel.backward(a, out, lse, g.to(t).contiguous(), delta, dq, dk, dv);
            return new Tensor[] {q.requiresGrad ? dq : null, k.requiresGrad ? dk : null, v.requiresGrad ? dv : null};
        }, q, k, v);
    }

    /** x itself when it is contiguous (whole) or its last stride is 1 (not whole), else a contiguous copy, without autograd. */
    private static Tensor lastContiguous(Tensor x, boolean whole) {
        if (whole ? x.isContiguous() : x.stride(x.dim() - 1) == 1) return x;
        try (var off = Grad.disabled()) {
            return x.contiguous();
        }
    }

    /** (B, L, G*H*E) -> contiguous (G, B*H, L, E) of dtype: one strided copy (converting where dtype differs). */
    private static Tensor headsFirst(Tensor x, int groups, int heads, int e, DType dtype) {
        int b = x.size(0), l = x.size(1);
        Tensor src = x.contiguous().view(b, l, groups, heads, e).permute(2, 0, 3, 1, 4);
        Tensor out = Tensor.empty(dtype, x.device(), groups, b * heads, l, e);
        if (out.numel() > 0) x.backend().copy(src, Views.rawView(out, groups, b, heads, l, e));
        return out;
    }

    /** (G, B*H, L, E) contiguous -> (B, L, G*H*E) of dtype: the inverse of headsFirst. */
    private static Tensor headsBack(Tensor d, int b, int heads, int l, int e, DType dtype) {
        int groups = d.size(0);
        Tensor out = Tensor.empty(dtype, d.device(), b, l, groups * heads * e);
        if (out.numel() > 0) {
            d.backend().copy(Views.rawView(d, groups, b, heads, l, e).permute(1, 3, 0, 2, 4), Views.rawView(out, b, l, groups, heads, e));
        }
        return out;
    }

    /** (B*H, L, E) contiguous -> (B, L, H*E) of dtype. */
    private static Tensor mergeHeads(Tensor oh, int b, int heads, int l, int e, DType dtype) {
        Tensor out = Tensor.empty(dtype, oh.device(), b, l, heads * e);
        if (out.numel() > 0) oh.backend().copy(Views.rawView(oh, b, heads, l, e).permute(0, 2, 1, 3), Views.rawView(out, b, l, heads, e));
        return out;
    }

    /**
     * The maths of fused attention over contiguous head blocks qh (B*H, Lq, E), kh (B*H, Lk, E), vh (B*H, Lk, Ev):
     * S = scale q k^T (+ additive, masked = -inf), P = softmax(S), Pd = dropout(P), out = Pd v; the backward
     * dPd = g v^T, dv = Pd^T g, dP = dropout(dPd), dS = softmax'(P, dP), dq = scale dS k, dk = scale dS^T q.
     * Runs without autograd; keeps what the backward needs.
     */
    private record AttentionCore(Tensor qh, Tensor kh, Tensor vh, Tensor p, Tensor pd, Tensor dropMask, double scale, Tensor out,
                                 double dropoutP, long dropSeed, long dropOffset) {
        static AttentionCore forward(Backend be, Tensor qh, Tensor kh, Tensor vh, int b, int h, Tensor masked, Tensor additive,
                double scale, double dropoutP, Random4j rng) {
            if (dropoutP < 0 || dropoutP > 1) throw new IllegalArgumentException("attention: dropout must be in [0, 1], got " + dropoutP);
            int bh = qh.size(0), lq = qh.size(1), lk = kh.size(1), ev = vh.size(2);
            int[] full = {b, h, lq, lk};
            try (var off = Grad.disabled()) {
                Tensor s = Tensor.empty(qh.dtype(), qh.device(), bh, lq, lk);
                if (s.numel() > 0) be.matmul(qh, kh.mT(), s, scale);
                Tensor s4 = Views.rawView(s, full);
                if (additive != null) {
                    Tensor t = Tensor.emptyLike(s4);
                    be.binary(BinaryOp.ADD, s4, Views.broadcastTo("attention", additive.to(s.dtype()), full), t);
                    s4 = t;
                }
                Tensor p = Tensor.empty(s.dtype(), s.device(), bh, lq, lk);
                if (masked != null) {
                    if (masked.dtype() != DType.BOOL) throw new IllegalArgumentException("attention: masked must be BOOL, got " + masked.dtype());
                    if (p.numel() > 0) be.maskedSoftmax(Views.rawView(s4, bh, lq, lk), Views.broadcastTo("attention", masked, full), p);
                } else if (p.numel() > 0) {
                    be.softmax(Views.rawView(s4, bh, lq, lk), p, false);
                }
                Tensor pd = p, mask = null;
                long seed = 0, offset = 0;
                if (dropoutP > 0 && dropoutP < 1 && be.hasFusedDropout(p.dtype())) {
                    Random4j r = rng == null ? Random4j.global() : rng;
                    seed = r.seed();
                    offset = r.reserve(p.numel());
                    pd = Tensor.emptyLike(p);
                    be.dropout(p, pd, dropoutP, seed, offset);
                } else if (dropoutP > 0) {
                    if (dropoutP == 1) {
                        mask = Tensor.full(0, p.dtype(), p.device(), bh, lq, lk);
                    } else {
                        Tensor u = Random.fill(Backend.Distribution.UNIFORM, rng == null ? Random4j.global() : rng, p.dtype(), p.device(), full, 0, 1);
                        mask = Views.rawView(u.ge(dropoutP).to(p.dtype()).mul(1.0 / (1.0 - dropoutP)), bh, lq, lk);
                    }
                    pd = p.mul(mask);
                }
                Tensor out = Tensor.empty(vh.dtype(), vh.device(), bh, lq, ev);
                if (out.numel() > 0) {
                    if (lk == 0) be.fill(out, 0);
                    else be.matmul(pd, vh, out, false);
                }
                return new AttentionCore(qh, kh, vh, p, pd, mask, scale, out, pd != p && mask == null ? dropoutP : 0, seed, offset);
            }
        }

        /** Writes dq (B*H, Lq, E), dk (B*H, Lk, E), dv (B*H, Lk, Ev) (contiguous) for the output gradient g (B*H, Lq, Ev). */
        void backward(Backend be, Tensor g, Tensor dq, Tensor dk, Tensor dv) {
            int bh = qh.size(0), lq = qh.size(1), lk = kh.size(1);
            if ((long) lq * lk == 0) {
                be.fill(dq, 0);
                be.fill(dk, 0);
                be.fill(dv, 0);
                return;
            }
            Tensor dpd = Tensor.empty(p.dtype(), p.device(), bh, lq, lk);
            be.matmul(g, vh.mT(), dpd, false);
            be.matmul(pd.mT(), g, dv, false);
            Tensor dp = dpd;
            if (dropMask != null) {
                dp = Tensor.emptyLike(dpd);
                be.binary(BinaryOp.MUL, dpd, dropMask, dp);
            } else if (dropoutP > 0) {
                be.dropout(dpd, dpd, dropoutP, dropSeed, dropOffset); // in place: the same keep decisions as forward
            }
            Tensor ds = Tensor.emptyLike(dp);
            be.softmaxBackward(p, dp, ds, false);
            be.matmul(ds, kh, dq, scale);
            be.matmul(ds.mT(), qh, dk, scale);
        }
    }
}
