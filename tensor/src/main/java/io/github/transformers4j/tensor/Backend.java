package io.github.transformers4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * What a device must implement. Op code (in this package) checks shapes, allocates outputs and records autograd;
 * a backend only computes. Unless a parameter says "strided", tensors passed here are contiguous.
 * Outputs are always freshly allocated contiguous tensors of the right shape and dtype.
 * Keep each kernel's forward and backward next to each other in implementations.
 */
public interface Backend {
    Device device();

    /** Uninitialised storage. */
    Storage allocate(DType dtype, long numel);

    /** Host bytes (native order, dtype of dst) into contiguous dst. */
    void copyFromHost(MemorySegment src, Tensor dst);

    /** Contiguous src into host bytes (native order). */
    void copyToHost(Tensor src, MemorySegment dst);

    /** Strided src into strided dst of the same shape, converting dtype. Both on this device. */
    void copy(Tensor src, Tensor dst);

    void fill(Tensor dst, double value);

    /** out = op(x; p0, p1) elementwise; x and out have the same shape (x contiguous, may differ in dtype). */
    void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out);

    /**
     * out = a op b; a and b are strided views already expanded to out's shape (stride 0 where broadcast), of out's
     * dtype (BOOL out for comparisons) — except that for an arithmetic op with an F32 out one operand may be BF16 or
     * F16, widened on load (bf16 autocast's residual adds).
     */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** out = cond ? a : b; all strided views expanded to out's shape. */
    void where(Tensor cond, Tensor a, Tensor b, Tensor out);

    /**
     * Reduces x viewed as [outer, n, inner] over n into values [outer, inner] (and, for MAX/MIN/ARGMAX/ARGMIN,
     * the int64 positions into indices, which may be null for MAX/MIN). Sums of floats accumulate in double.
     */
    void reduce(ReduceOp op, Tensor x, long outer, long n, long inner, Tensor values, Tensor indices);

    /** out[b] (+)= a[b] @ b[b]; a [B, M, K] and b [B, K, N] strided (batch stride may be 0), out [B, M, N]. */
    void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate);

    /** Softmax (or log-softmax) over the last dim. */
    void softmax(Tensor x, Tensor out, boolean log);

    /** gx from output y and gy: y * (gy - sum(gy * y)), or for log: gy - exp(y) * sum(gy). */
    void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log);

    /** Over the last dim of x [rows, D]: y, mean [rows], rstd [rows]; w and b [D] may be null. */
    void layerNorm(Tensor x, Tensor w, Tensor b, double eps, Tensor y, Tensor mean, Tensor rstd);

    /** gx [rows, D]; gw and gb [D] (null when not wanted). */
    void layerNormBackward(Tensor gy, Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gx, Tensor gw, Tensor gb);

    /** src viewed [outer, n, inner]; index int64 [m], values in [0, n); out [outer, m, inner]. */
    void indexSelect(Tensor src, long outer, long n, long inner, Tensor index, Tensor out);

    /** dst [outer, n, inner] += src [outer, m, inner] at rows index [m] (deterministic order). */
    void indexAdd(Tensor dst, long outer, long n, long inner, Tensor index, Tensor src);

    /** out[..i..] = src[..index[..i..]..] along dim; index int64 with out's shape; src strided. */
    void gather(Tensor src, int dim, Tensor index, Tensor out);

    /** dst[..index[..i..]..] += src[..i..] along dim (deterministic order). */
    void scatterAdd(Tensor dst, int dim, Tensor index, Tensor src);

    /** Fills out from the counter-based generator: UNIFORM in [a, b), NORMAL(mean a, std b), INT in [a, b). */
    void random(Tensor out, Distribution kind, long seed, long offset, double a, double b);

    /** x [N, C, H, W] into cols [N, C*kh*kw, OH*OW] (zero padding; kernel taps dh, dw apart: dilation). */
    void im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor cols);

    /** Adds cols [N, C*kh*kw, OH*OW] back into x [N, C, H, W] (which the caller zeroed). */
    void col2im(Tensor cols, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor x);

    /**
     * One Adam/AdamW update in place: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
     * p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps); decoupled decay: p *= 1 - lr*wd first,
     * otherwise (Adam) g += wd * p first. All F32 or all F64, same shape.
     */
    void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step, boolean decoupled);

    /** Blocks until queued work is done (no-op on the CPU). */
    default void synchronize() {}

    /**
     * Returns the memory this backend keeps for reuse (freed blocks of earlier steps) to the system, as
     * {@code torch.cuda.empty_cache()}: a trainer calls it between training and evaluation, whose working sets differ.
     */
    default void emptyCache() {}

    // ------------------------------------------------------------ optional fused ops
    // A backend that offers them says so; otherwise the op layer composes the same maths from the ops above.

    /**
     * The backend's kernel for {@code op} on {@code dtype} (null where the op has no single dtype), or empty when it
     * offers none and the op layer should run its reference composite. New fused kernels come through here; the
     * older {@code has...}/{@code prefers...} pairs below predate it.
     */
    default <K> java.util.Optional<K> kernel(FusedOp<K> op, DType dtype) {
        return java.util.Optional.empty();
    }

    /** Whether {@link #linear} and {@link #linearWeightGrad} are offered for this dtype. */
    default boolean hasFusedLinear(DType dtype) {
        return false;
    }

    /** out [M, N] = x [M, K] @ w [N, K]^T + bias [N] (bias may be null); all contiguous. */
    default void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        throw new UnsupportedOperationException("fused linear is not offered by " + this);
    }

    /** gw [N, K] = g [M, N]^T @ x [M, K] and gb [N] = sums of g's columns; either output may be null; all contiguous. */
    default void linearWeightGrad(Tensor g, Tensor x, Tensor gw, Tensor gb) {
        throw new UnsupportedOperationException("fused linear is not offered by " + this);
    }

    /**
     * Whether multi-head attention should run as one fused op ({@link NnOps#multiHeadAttention}, heads repacked once,
     * the scale folded into the products) rather than composed from views, products and softmax.
     */
    default boolean prefersFusedAttention() {
        return false;
    }

    /** Whether {@link #dropout} is offered for this dtype (else dropout is composed from random, compare and multiply). */
    default boolean hasFusedDropout(DType dtype) {
        return false;
    }

    /**
     * Dropout in one pass with the numbers {@link #random} would draw for UNIFORM [0, 1) at (seed, offset): element i is
     * kept when u_i >= p and becomes x_i * (float) (1 / (1 - p)), else 0. Applied to the output gradient with the same
     * (seed, offset) it is the backward. x and out contiguous, same shape and dtype (may be the same tensor).
     */
    default void dropout(Tensor x, Tensor out, double p, long seed, long offset) {
        throw new UnsupportedOperationException("fused dropout is not offered by " + this);
    }

    /**
     * Softmax over the last dim of scores x (B*H*Lq, Lk) with entries where {@code mask} is true counted as -inf;
     * mask is a BOOL view broadcast to (B, H, Lq, Lk). The default fills the masked entries, then takes the softmax.
     */
    default void maskedSoftmax(Tensor x, Tensor mask, Tensor out) {
        int[] full = mask.shape();
        Tensor filled = Tensor.empty(x.dtype(), x.device(), full);
        Tensor inf = Tensor.full(Double.NEGATIVE_INFINITY, x.dtype(), x.device());
        where(mask, Views.broadcastTo("maskedSoftmax", inf, full), Views.rawView(x, full), filled);
        softmax(Views.rawView(filled, x.shape()), out, false);
        filled.release();
    }

    /** out = alpha * a @ b, shapes and strides as {@link #matmul}; the default scales after the product. */
    default void matmul(Tensor a, Tensor b, Tensor out, double alpha) {
        if (alpha == 1) {
            matmul(a, b, out, false);
            return;
        }
        Tensor product = Tensor.emptyLike(out);
        matmul(a, b, product, false);
        unary(UnaryOp.AFFINE, alpha, 0, product, out);
        product.release();
    }

    enum Distribution { UNIFORM, NORMAL, INT }
}
