package io.github.transformers4j.tensor;

/** Elementwise functions of one tensor; p0, p1 are scalar parameters where noted. *_GRAD are derivatives f'(x). */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RSQRT, ABS, SIGN, SQUARE, RECIPROCAL, TANH, SIGMOID, RELU, GELU, GELU_TANH, SILU,
    /** x^p0 */
    POW,
    /** min(max(x, p0), p1) */
    CLAMP,
    /** x * p0 + p1 */
    AFFINE,
    /** p0 ^ x: used by pow(scalar, tensor) */
    RPOW,
    /** 1 where p0 < x < p1 else 0 (clamp's derivative; relu's with p0 = 0, p1 = inf) */
    INSIDE,
    GELU_GRAD, GELU_TANH_GRAD, SILU_GRAD,
    /** logical not of a BOOL */
    NOT
}
