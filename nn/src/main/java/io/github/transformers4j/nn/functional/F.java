package io.github.transformers4j.nn.functional;

import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * torch.nn.functional: stateless layers and losses with PyTorch's names, argument order and defaults.
 *
 * <p>Masks mean what they mean in PyTorch, argument by argument: a {@code keyPaddingMask} is BOOL with {@code true} =
 * padding (ignored); the bool {@code attnMask} of {@link #scaledDotProductAttention} is {@code true} = attend (as
 * {@code F.scaled_dot_product_attention}), while nn.MultiheadAttention's and the transformer layers' bool masks are
 * {@code true} = NOT allowed (as theirs). Float masks are added to the scores everywhere.
 */
public final class F {
    private F() {}

    // ------------------------------------------------------------------------------------------ layers

    /** x (..., in) @ weight (out, in)^T + bias (out): (..., out). bias may be null. */
    public static Tensor linear(Tensor input, Tensor weight, Tensor bias) {
        checkLinear(input, weight, bias);
        return NnOps.linear(input, weight, bias); // one fused product where the backend offers it, else matmul + add
    }

    /**
     * {@code activation(linear(input, weight, bias))}, a feed-forward block's first product: ReLU in the product's
     * epilogue where the backend fuses it (bf16 autocast on the GPU), the same values as the two calls.
     */
    public static Tensor linear(Tensor input, Tensor weight, Tensor bias, Activation activation) {
        checkLinear(input, weight, bias);
        return activation == Activation.RELU ? NnOps.linearRelu(input, weight, bias) : activation.apply(NnOps.linear(input, weight, bias));
    }

    private static void checkLinear(Tensor input, Tensor weight, Tensor bias) {
        if (weight.dim() != 2) throw new IllegalArgumentException("linear: weight must be (out, in), got " + shape(weight));
        if (input.dim() == 0 || input.size(-1) != weight.size(1)) {
            throw new IllegalArgumentException("linear: input " + shape(input) + " has " + (input.dim() == 0 ? 0 : input.size(-1))
                    + " features but weight " + shape(weight) + " expects " + weight.size(1));
        }
        if (bias != null && (bias.dim() != 1 || bias.size(0) != weight.size(0))) {
            throw new IllegalArgumentException("linear: bias " + shape(bias) + " should be [" + weight.size(0) + "] for weight " + shape(weight));
        }
    }

    public static Tensor relu(Tensor x) {
        return x.relu();
    }

    /** Exact GELU, x * Phi(x). */
    public static Tensor gelu(Tensor x) {
        return x.gelu();
    }

    /** GELU with {@code approximate} "none" (exact, erf) or "tanh" (0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))). */
    public static Tensor gelu(Tensor x, String approximate) {
        return switch (approximate) {
            case "none" -> x.gelu();
            case "tanh" -> x.geluTanh();
            default -> throw new IllegalArgumentException("gelu: approximate must be 'none' or 'tanh', got '" + approximate + "'");
        };
    }

    public static Tensor tanh(Tensor x) {
        return x.tanh();
    }

    public static Tensor sigmoid(Tensor x) {
        return x.sigmoid();
    }

    public static Tensor silu(Tensor x) {
        return x.silu();
    }

    /** Softmax over {@code dim}; a row whose entries are all -inf gives zeros (not NaN). */
    public static Tensor softmax(Tensor x, int dim) {
        return NnOps.softmax(x, dim, false);
    }

    public static Tensor logSoftmax(Tensor x, int dim) {
        return NnOps.softmax(x, dim, true);
    }

    /**
     * Layer norm over the trailing dims {@code normalizedShape} (biased variance, eps inside the square root).
     * weight and bias (of shape normalizedShape) may be null.
     */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        int n = normalizedShape.length;
        int[] s = x.shape();
        if (n == 0 || n > s.length || !Arrays.equals(Arrays.copyOfRange(s, s.length - n, s.length), normalizedShape)) {
            throw new IllegalArgumentException("layerNorm: input " + Arrays.toString(s) + " does not end with normalized shape "
                    + Arrays.toString(normalizedShape));
        }
        return NnOps.layerNorm(x, n, weight, bias, eps);
    }

    /** Inverted dropout (scales kept elements by 1 / (1 - p)); identity when not training or p == 0. */
    public static Tensor dropout(Tensor x, double p, boolean training, Random4j rng) {
        return NnOps.dropout(x, p, training, rng == null ? Random4j.global() : rng);
    }

    /**
     * Stochastic depth (timm's {@code drop_path}, "Deep Networks with Stochastic Depth"): while training, each sample
     * (index of dim 0) of a residual branch is zeroed with probability p and the kept ones are scaled by 1 / (1 - p);
     * identity when not training or p == 0. Used as {@code x + dropPath(branch(x))}. The per-sample factor is fp32 (or
     * fp64 for fp64 x), drawn by {@link #dropout} on a (B, 1, ..., 1) tensor of ones, so the draw is the engine's
     * dropout stream (reproducible, and replayed by captured GPU steps).
     */
    public static Tensor dropPath(Tensor x, double p, boolean training, Random4j rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropPath: probability must be in [0, 1], got " + p);
        if (!training || p == 0) return x;
        if (x.dim() == 0) throw new IllegalArgumentException("dropPath: needs a batch dimension, got a scalar");
        int[] shape = new int[x.dim()];
        Arrays.fill(shape, 1);
        shape[0] = x.size(0);
        DType dt = x.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor keep = dropout(Tensor.full(1, dt, x.device(), shape), p, true, rng);
        return x.mul(keep);
    }

    /** Rows of weight (num, dim) at the integer indices (any shape): (indices..., dim). */
    public static Tensor embedding(Tensor input, Tensor weight) {
        return NnOps.embedding(weight, input, -1);
    }

    /**
     * As {@link #embedding(Tensor, Tensor)}; row {@code paddingIdx} receives no gradient. A negative paddingIdx counts
     * from the end, as in PyTorch.
     */
    public static Tensor embedding(Tensor input, Tensor weight, int paddingIdx) {
        int num = weight.size(0);
        int p = paddingIdx < 0 ? paddingIdx + num : paddingIdx;
        if (p < 0 || p >= num) {
            throw new IllegalArgumentException("embedding: paddingIdx " + paddingIdx + " out of range for " + num + " embeddings");
        }
        return NnOps.embedding(weight, input, p);
    }

    /** {@code F.conv2d(input, weight, bias)}: stride 1, no padding. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias) {
        return conv2d(input, weight, bias, 1, 0);
    }

    /** Cross-correlation: input (N, C, H, W), weight (O, C, kh, kw), bias (O) or null; square stride and padding. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int stride, int padding) {
        return conv2d(input, weight, bias, stride, padding, 1, 1);
    }

    /** {@code F.conv2d(input, weight, bias, stride, padding, dilation, groups)} with square stride, padding and dilation. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation, int groups) {
        return conv2d(input, weight, bias, new int[] {stride, stride}, new int[] {padding, padding}, new int[] {dilation, dilation}, groups);
    }

    /**
     * Cross-correlation as {@code torch.nn.functional.conv2d}: input (N, C, H, W), weight (O, C / groups, kh, kw), bias
     * (O) or null; stride, padding (zeros) and dilation as (height, width) pairs; output (N, O, OH, OW).
     */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        return NnOps.conv2d(input, weight, bias, stride, padding, dilation, groups);
    }

    // ------------------------------------------------------------------------------------------ attention

    /** softmax(q k^T / sqrt(E)) v with no masks: q (B, H, Lq, E), k (B, H, Lk, E), v (B, H, Lk, Ev). */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v) {
        return scaledDotProductAttention(q, k, v, SdpaOptions.DEFAULT).output();
    }

    /**
     * {@code torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask)}: {@code attnMask} BOOL with
     * {@code true} = attend (PyTorch's sense here, the opposite of a key-padding mask), or floating point, added to the
     * scores; broadcastable to (B, H, Lq, Lk); or null.
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor attnMask) {
        return scaledDotProductAttention(q, k, v, attnMask, 0, false, null);
    }

    /** {@code scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)}; dropout whenever dropoutP > 0. */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor attnMask, double dropoutP, boolean isCausal) {
        return scaledDotProductAttention(q, k, v, attnMask, dropoutP, isCausal, null);
    }

    /** {@code scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)}; scale null = 1 / sqrt(E). */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor attnMask, double dropoutP, boolean isCausal,
            Double scale) {
        return scaledDotProductAttention(q, k, v, new SdpaOptions(attnMask, null, isCausal, dropoutP, scale, null, false)).output();
    }

    /**
     * Scaled dot-product attention {@code softmax(q k^T * scale + mask) v}, with the arguments named
     * ({@link SdpaOptions}: attention mask in PyTorch's sense, key-padding mask, causal, dropout, scale, generator,
     * weights). The kernel is chosen here: a fused or flash kernel where the backend offers one and no weights are
     * asked for, else the composite below.
     *
     * @param q (B, H, Lq, E), or (B, Lq, E) for a single head
     * @param k (B, H, Lk, E), or (B, Lk, E)
     * @param v (B, H, Lk, Ev), or (B, Lk, Ev)
     * @return output (B, H, Lq, Ev) and the weights or null. A query with no allowed key gets weights 0 and output 0
     *     (never NaN), and passes no gradient.
     */
    public static Attention scaledDotProductAttention(Tensor q, Tensor k, Tensor v, SdpaOptions o) {
        if (q.dim() == 3 && k.dim() == 3 && v.dim() == 3) {
            Tensor m = o.attnMask();
            Attention a = scaledDotProductAttention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1),
                    o.toBuilder().attnMask(m == null || m.dim() < 3 ? m : m.unsqueeze(-3)).build());
            return new Attention(a.output().squeeze(1), a.weights() == null ? null : a.weights().squeeze(1));
        }
        String where = "scaledDotProductAttention(q " + shape(q) + ", k " + shape(k) + ", v " + shape(v) + ")";
        if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) {
            throw new IllegalArgumentException(where + ": expected q, k, v of rank 4 (B, H, L, E) or all of rank 3 (B, L, E)");
        }
        int b = q.size(0), h = q.size(1), lq = q.size(2), lk = k.size(2);
        if (k.size(0) != b || v.size(0) != b || k.size(1) != h || v.size(1) != h) {
            throw new IllegalArgumentException(where + ": batch and head dims (0, 1) must agree");
        }
        if (k.size(3) != q.size(3)) throw new IllegalArgumentException(where + ": q and k embedding dims differ");
        if (v.size(2) != lk) throw new IllegalArgumentException(where + ": k and v sequence lengths differ");

        double s = o.scale() != null ? o.scale() : 1 / Math.sqrt(q.size(3));
        double p = o.dropoutP();
        Random4j rng = o.rng() == null ? Random4j.global() : o.rng();
        boolean capture = AttentionCapture.active();
        if (!o.needWeights() && !capture && Backends.of(q.device()).prefersFusedAttention()) {
            // one autograd op: scale folded into the score product, no per-op copies of strided heads; causality passed
            // as such (a flash kernel skips the tiles above the diagonal)
            Tensor[] masks = attentionMasks(where, b, h, lq, lk, o.keyPaddingMask(), o.attnMask(), false, q.device());
            return new Attention(NnOps.scaledDotProductAttention(q, k, v, masks[0], masks[1], s, p, rng, o.isCausal()), null);
        }
        Tensor[] masks = attentionMasks(where, b, h, lq, lk, o.keyPaddingMask(), o.attnMask(), o.isCausal(), q.device());
        Tensor masked = masks[0], additive = masks[1];
        Tensor scores = q.matmul(k.mT()).mul(s); // (B, H, Lq, Lk)
        if (additive != null) scores = scores.add(additive.to(scores.dtype()));
        if (masked != null) scores = scores.maskedFill(masked, Double.NEGATIVE_INFINITY);
        Tensor weights = scores.softmax(-1); // a row that is all -inf comes out as zeros, with zero gradient
        if (capture) AttentionCapture.record(q, k, weights);
        if (p > 0) weights = NnOps.dropout(weights, p, true, rng);
        return new Attention(weights.matmul(v), o.needWeights() ? weights : null);
    }

    /**
     * Multi-head attention on head-merged projections, as transformer layers compute them: {@code q} is the packed
     * self-attention projection (B, L, 3 H E) (columns q | k | v) when {@code kv} is null, else the queries (B, Lq, H E)
     * with {@code kv} the packed keys and values (B, Lk, 2 H E) (columns k | v). Returns the heads' outputs side by side
     * (B, Lq, H E) and, when asked, the weights (B, H, Lq, Lk). Same maths as splitting the heads and calling
     * {@link #scaledDotProductAttention(Tensor, Tensor, Tensor, SdpaOptions)}; where the backend prefers it, one fused
     * op that writes the gradient of the packed projection directly (flash attention under bf16 autocast).
     */
    public static Attention multiHeadAttention(Tensor q, Tensor kv, int heads, SdpaOptions o) {
        int parts = kv == null ? 3 : 1;
        if (q.dim() != 3 || kv != null && (kv.dim() != 3 || kv.size(0) != q.size(0) || kv.size(2) != 2 * q.size(2))
                || q.size(2) % (parts * heads) != 0) {
            throw new IllegalArgumentException("multiHeadAttention: expected " + (kv == null ? "a packed (B, L, 3 H E) projection" :
                    "queries (B, Lq, H E) and packed keys and values (B, Lk, 2 H E)") + " with " + heads + " heads, got q " + shape(q)
                    + (kv == null ? "" : ", kv " + shape(kv)));
        }
        int b = q.size(0), lq = q.size(1), lk = kv == null ? lq : kv.size(1), e = q.size(2) / parts / heads;
        if (!o.needWeights() && !AttentionCapture.active() && Backends.of(q.device()).prefersFusedAttention()) {
            Tensor[] masks = attentionMasks("multiHeadAttention(q " + shape(q) + ")", b, heads, lq, lk, o.keyPaddingMask(), o.attnMask(),
                    false, q.device());
            return new Attention(NnOps.multiHeadAttention(q, kv, heads, masks[0], masks[1], o.scale() != null ? o.scale() : 1 / Math.sqrt(e),
                    o.dropoutP(), o.rng() == null ? Random4j.global() : o.rng(), o.isCausal()), null);
        }
        java.util.List<Tensor> qkv = kv == null ? q.chunk(3, -1) : kv.chunk(2, -1);
        Tensor hq = splitHeads(kv == null ? qkv.get(0) : q, heads);
        Tensor hk = splitHeads(qkv.get(kv == null ? 1 : 0), heads), hv = splitHeads(qkv.get(kv == null ? 2 : 1), heads);
        Attention a = scaledDotProductAttention(hq, hk, hv, o);
        Tensor out = a.output(); // (B, H, Lq, E) -> (B, Lq, H E)
        return new Attention(out.transpose(1, 2).reshape(b, lq, heads * out.size(3)), a.weights());
    }

    /** (B, L, H E) -> (B, H, L, E). */
    private static Tensor splitHeads(Tensor x, int heads) {
        return x.reshape(x.size(0), x.size(1), heads, x.size(2) / heads).transpose(1, 2);
    }

    /**
     * The masks of an attention call combined, in the kernels' form: {BOOL mask, true = NOT allowed (or null);
     * floating-point mask added to the scores (or null)}, both broadcastable to (B, H, Lq, Lk).
     *
     * @param keyPaddingMask BOOL (B, Lk), true = padding, or null
     * @param attnMask BOOL (true = attend, {@link SdpaOptions#attnMask()}'s sense) or float (added), broadcastable to
     *     (B, H, Lq, Lk), or null
     * @param causal add the causal mask (query i sees keys j <= i)
     */
    public static Tensor[] attentionMasks(String where, int b, int h, int lq, int lk, Tensor keyPaddingMask, Tensor attnMask,
            boolean causal, Device device) {
        Tensor masked = null;
        if (keyPaddingMask != null) {
            if (keyPaddingMask.dtype() != DType.BOOL || keyPaddingMask.dim() != 2 || keyPaddingMask.size(0) != b || keyPaddingMask.size(1) != lk) {
                throw new IllegalArgumentException(where + ": keyPaddingMask must be BOOL (B, Lk) = [" + b + ", " + lk + "] (true = padding), got "
                        + keyPaddingMask.dtype() + " " + shape(keyPaddingMask));
            }
            masked = keyPaddingMask.view(b, 1, 1, lk);
        }
        if (causal) masked = or(masked, causalMask(lq, lk, device));
        Tensor additive = null;
        if (attnMask != null) {
            int[] full = {b, h, lq, lk};
            if (!broadcastsTo(attnMask.shape(), full)) {
                throw new IllegalArgumentException(where + ": attnMask " + attnMask.dtype() + " " + shape(attnMask)
                        + " does not broadcast to (B, H, Lq, Lk) = " + Arrays.toString(full));
            }
            if (attnMask.dtype() == DType.BOOL) masked = or(masked, attnMask.logicalNot());
            else if (attnMask.dtype().isFloatingPoint()) additive = attnMask;
            else throw new IllegalArgumentException(where + ": attnMask must be BOOL (true = attend) or floating point (added), got "
                    + attnMask.dtype() + " " + shape(attnMask));
        }
        return new Tensor[] {masked, additive};
    }

    /** BOOL (Lq, Lk): true where key j lies after query i (j > i); cached per size and device ({@link NnOps#causalMask}). */
    public static Tensor causalMask(int lq, int lk, Device device) {
        return NnOps.causalMask(lq, lk, device);
    }

    private static Tensor or(Tensor a, Tensor b) {
        return a == null ? b : a.logicalOr(b);
    }

    private static boolean broadcastsTo(int[] s, int[] target) {
        if (s.length > target.length) return false;
        for (int i = 1; i <= s.length; i++) {
            int d = s[s.length - i];
            if (d != 1 && d != target[target.length - i]) return false;
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------ losses

    /** Cross-entropy with PyTorch's defaults: ignoreIndex -100, no label smoothing, mean. */
    public static Tensor crossEntropy(Tensor input, Tensor target) {
        return crossEntropy(input, target, -100, 0, Reduction.MEAN);
    }

    /**
     * Cross-entropy between logits and class indices, as torch.nn.functional.cross_entropy (without class weights).
     *
     * @param input logits (N, C) or (N, C, d1, ...)
     * @param target class indices (N) or (N, d1, ...), I64 or I32; value ignoreIndex = no loss, no gradient
     * @param labelSmoothing eps: loss = (1 - eps) * nll + eps * mean over classes of -log p (ignored targets add 0 to both)
     * @param reduction MEAN divides the sum by the number of non-ignored targets (NaN if there is none, as PyTorch);
     *     NONE gives the per-target loss (0 at ignored targets), shaped like target
     */
    public static Tensor crossEntropy(Tensor input, Tensor target, long ignoreIndex, double labelSmoothing, Reduction reduction) {
        if (labelSmoothing < 0 || labelSmoothing > 1) {
            throw new IllegalArgumentException("crossEntropy: labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
        Tensor logits = classesLast("crossEntropy", input, target);
        Tensor t = target.to(DType.I64).reshape(-1);
        checkTargets("crossEntropy", t, logits.size(1), ignoreIndex);
        Tensor loss = NnOps.crossEntropy(logits, t, ignoreIndex, labelSmoothing); // (M), 0 at ignored targets
        return reduce(loss, t.ne(ignoreIndex).to(loss.dtype()), target.shape(), reduction);
    }

    public static Tensor nllLoss(Tensor input, Tensor target) {
        return nllLoss(input, target, -100, Reduction.MEAN);
    }

    /** Negative log-likelihood of log-probabilities input (N, C) or (N, C, d...) at the target classes; as crossEntropy without the log-softmax. */
    public static Tensor nllLoss(Tensor input, Tensor target, long ignoreIndex, Reduction reduction) {
        Tensor logp = classesLast("nllLoss", input, target);
        Tensor[] picked = pickTargets("nllLoss", logp, target, ignoreIndex);
        return reduce(picked[0].neg().mul(picked[1]), picked[1], target.shape(), reduction);
    }

    public static Tensor mseLoss(Tensor input, Tensor target) {
        return mseLoss(input, target, Reduction.MEAN);
    }

    /** Squared error (input - target)^2, reduced; input and target must have one shape. */
    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        if (!Arrays.equals(input.shape(), target.shape())) {
            throw new IllegalArgumentException("mseLoss: input " + shape(input) + " and target " + shape(target) + " differ in shape");
        }
        Tensor sq = input.sub(target).square();
        return switch (reduction) {
            case NONE -> sq;
            case SUM -> sq.sum();
            case MEAN -> sq.mean();
        };
    }

    /** Logits (N, C, d...) as (N * d..., C), after checking target (N, d...). */
    private static Tensor classesLast(String op, Tensor input, Tensor target) {
        if (input.dim() < 2) throw new IllegalArgumentException(op + ": input must be (N, C) or (N, C, d...), got " + shape(input));
        int[] s = input.shape();
        int[] expect = new int[s.length - 1];
        expect[0] = s[0];
        System.arraycopy(s, 2, expect, 1, s.length - 2);
        if (!Arrays.equals(target.shape(), expect)) {
            throw new IllegalArgumentException(op + ": target " + shape(target) + " should be " + Arrays.toString(expect) + " for input " + shape(input));
        }
        if (target.dtype() != DType.I64 && target.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": target must hold class indices (I64 or I32), got " + target.dtype());
        }
        if (input.dim() == 2) return input;
        int[] perm = new int[s.length];
        perm[0] = 0;
        for (int i = 2; i < s.length; i++) perm[i - 1] = i;
        perm[s.length - 1] = 1;
        return input.permute(perm).reshape(-1, s[1]);
    }

    /**
     * Class targets t (M) I64 in [0, classes) or ignoreIndex. A GPU target is checked by the kernel that reads it (gather,
     * or the fused cross-entropy); a CPU one here (not while recording a step: the CPU records nothing).
     */
    private static void checkTargets(String op, Tensor t, int classes, long ignoreIndex) {
        if (t.device().type() == io.github.transformers4j.tensor.Device.Type.CPU && !io.github.transformers4j.tensor.Capture.active()) {
            long[] tv = t.toLongArray();
            for (int i = 0; i < tv.length; i++) {
                if (tv[i] != ignoreIndex && (tv[i] < 0 || tv[i] >= classes)) {
                    throw new IllegalArgumentException(op + ": target " + tv[i] + " at flat position " + i + " is outside [0, "
                            + classes + ") and is not ignoreIndex " + ignoreIndex);
                }
            }
        }
    }

    /** {value of logp (M, C) at each target (M), 1/0 float mask of non-ignored targets}. */
    private static Tensor[] pickTargets(String op, Tensor logp, Tensor target, long ignoreIndex) {
        Tensor t = target.to(DType.I64).reshape(-1);
        checkTargets(op, t, logp.size(1), ignoreIndex);
        Tensor validB = t.ne(ignoreIndex);
        Tensor safe = Tensor.where(validB, t, Tensor.full(0, DType.I64, t.device()));
        Tensor picked = logp.gather(1, safe.unsqueeze(1)).squeeze(1);
        return new Tensor[] {picked, validB.to(logp.dtype())};
    }

    private static Tensor reduce(Tensor perTarget, Tensor valid, int[] targetShape, Reduction reduction) {
        return switch (reduction) {
            case NONE -> perTarget.reshape(targetShape);
            case SUM -> perTarget.sum();
            case MEAN -> perTarget.sum().div(valid.sum());
        };
    }

    private static String shape(Tensor t) {
        return Arrays.toString(t.shape());
    }
}
