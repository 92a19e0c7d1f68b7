package io.github.transformers4j.tensor;

public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE, AND, OR,
    /** a * gelu'(b): the backward of (erf) GELU in one pass, a the output gradient, b the input (no gradient of its own). */
    GELU_BACKWARD,
    /** a * (b &gt; 0): the backward of ReLU in one pass, a the output gradient, b the input or the output (no gradient of its own). */
    RELU_BACKWARD;

    /** EQ to OR: a BOOL result. */
    public boolean isComparison() {
        return ordinal() >= EQ.ordinal() && ordinal() <= OR.ordinal();
    }
}
