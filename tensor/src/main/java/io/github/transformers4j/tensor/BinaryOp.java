package io.github.transformers4j.tensor;

public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE, AND, OR;

    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
