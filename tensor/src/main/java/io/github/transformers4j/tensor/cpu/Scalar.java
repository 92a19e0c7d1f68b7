package io.github.transformers4j.tensor.cpu;

import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.UnaryOp;

/** Scalar definitions of the elementwise ops, in double: the generic path and the reference for vector kernels. */
public final class Scalar {
    private Scalar() {}

    private static final double SQRT1_2 = 1 / Math.sqrt(2), INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double GELU_K = Math.sqrt(2 / Math.PI);

    public static double unary(UnaryOp op, double p0, double p1, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
            case TANH -> Math.tanh(x);
            case SIGMOID -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
            case RELU -> x > 0 ? x : 0;
            case GELU -> 0.5 * x * (1 + erf(x * SQRT1_2));
            case GELU_GRAD -> 0.5 * (1 + erf(x * SQRT1_2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
            case GELU_TANH_GRAD -> {
                double u = GELU_K * (x + 0.044715 * x * x * x), t = Math.tanh(u);
                yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_K * (1 + 3 * 0.044715 * x * x);
            }
            case SILU -> x * unary(UnaryOp.SIGMOID, 0, 0, x);
            case SILU_GRAD -> {
                double s = unary(UnaryOp.SIGMOID, 0, 0, x);
                yield s * (1 + x * (1 - s));
            }
            case POW -> Math.pow(x, p0);
            case RPOW -> Math.pow(p0, x);
            case CLAMP -> Math.min(Math.max(x, p0), p1);
            case AFFINE -> x * p0 + p1;
            case INSIDE -> x >= p0 && x <= p1 ? 1 : 0;
            case NOT -> x == 0 ? 1 : 0;
        };
    }

    public static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MAXIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case MINIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case AND -> a != 0 && b != 0 ? 1 : 0;
            case OR -> a != 0 || b != 0 ? 1 : 0;
            case GELU_BACKWARD -> a * unary(UnaryOp.GELU_GRAD, 0, 0, b);
            case RELU_BACKWARD -> a * (b > 0 ? 1 : 0);
        };
    }

    /**
     * erf to double precision: erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)), a series of
     * positive terms (no cancellation); |x| >= 6 gives +-1 (erfc(6) ~ 2e-17).
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax >= 6) return Math.copySign(1, x);
        double x2 = ax * ax, term = ax, sum = ax;
        for (int n = 1; n < 200; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double r = 2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
        return Math.copySign(Math.min(r, 1), x);
    }
}
