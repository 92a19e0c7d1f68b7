package io.github.transformers4j.tensor;

/** Elementwise ops with broadcasting; each forward next to its backward. */
final class Elementwise {
    private Elementwise() {}

    static void checkSameDevice(String op, Tensor a, Tensor b) {
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": tensors on different devices: " + a.device() + " and " + b.device());
        }
    }

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        checkSameDevice(name, a, b);
        DType compute = DType.promote(a.dtype(), b.dtype());
        if (op == BinaryOp.DIV && !compute.isFloatingPoint()) compute = DType.F32; // true division, as torch.div
        if ((op == BinaryOp.AND || op == BinaryOp.OR)) compute = DType.BOOL;
        int[] shape = Shape.broadcast(name, a.shape(), b.shape());
        boolean widenOnLoad = compute == DType.F32 && !op.isComparison(); // a 16-bit float operand is read as it is
        Tensor ac = a.dtype() == compute || widenOnLoad && a.dtype().isHalf() ? a : rawConvert(a, compute);
        Tensor bc = b.dtype() == compute || widenOnLoad && b.dtype().isHalf() ? b : rawConvert(b, compute);
        Tensor out = Tensor.empty(op.isComparison() ? DType.BOOL : compute, a.device(), shape);
        a.backend().binary(op, Views.broadcastTo(name, ac, shape), Views.broadcastTo(name, bc, shape), out);
        if (op.isComparison() || !compute.isFloatingPoint()) return out;
        int[] sa = a.shape(), sb = b.shape();
        return Autograd.record(name, out, g -> switch (op) {
            case ADD -> new Tensor[] {Reductions.sumTo(g, sa), Reductions.sumTo(g, sb)};
            case SUB -> new Tensor[] {Reductions.sumTo(g, sa), Reductions.sumTo(g.neg(), sb)};
            case MUL -> new Tensor[] {
                a.requiresGrad ? Reductions.sumTo(g.mul(b), sa) : null,
                b.requiresGrad ? Reductions.sumTo(g.mul(a), sb) : null};
            case DIV -> new Tensor[] {
                a.requiresGrad ? Reductions.sumTo(g.div(b), sa) : null,
                b.requiresGrad ? Reductions.sumTo(g.mul(out).div(b).neg(), sb) : null};
            case POW -> new Tensor[] {
                a.requiresGrad ? Reductions.sumTo(g.mul(b).mul(a.pow(b.sub(1.0))), sa) : null,
                // d/db a^b = a^b ln a; defined as 0 where a == 0 (as PyTorch does for b > 0)
                b.requiresGrad ? Reductions.sumTo(g.mul(out).mul(a.log()).maskedFill(a.eq(0.0), 0), sb) : null};
            case MAXIMUM, MINIMUM -> {
                // the larger (smaller) input takes the gradient; ties split it evenly
                Tensor wins = op == BinaryOp.MAXIMUM ? a.gt(b) : a.lt(b);
                Tensor share = wins.to(g.dtype()).add(a.eq(b).to(g.dtype()).mul(0.5));
                yield new Tensor[] {Reductions.sumTo(g.mul(share), sa), Reductions.sumTo(g.mul(share.neg().add(1.0)), sb)};
            }
            default -> throw new IllegalStateException("no gradient for " + op);
        }, a, b);
    }

    /** dtype conversion with no autograd record, for operands handed to a backend. */
    static Tensor rawConvert(Tensor x, DType dtype) {
        Tensor out = Tensor.empty(dtype, x.device(), x.shape());
        x.backend().copy(x, out);
        return out;
    }

    static DType unaryResultType(UnaryOp op, DType in) {
        return switch (op) {
            case NEG, ABS, SIGN, SQUARE, CLAMP -> in == DType.BOOL ? DType.I64 : in;
            case AFFINE -> in.isFloatingPoint() ? in : DType.F32;
            case NOT -> DType.BOOL;
            default -> in.isFloatingPoint() ? in : DType.F32;
        };
    }

    static Tensor affine(Tensor x, double scale, double shift) {
        if (!x.dtype().isFloatingPoint() && scale == Math.rint(scale) && shift == Math.rint(shift)) {
            // integer tensor with integral scalars stays integral, like PyTorch
            Tensor out = Tensor.emptyLike(x);
            x.backend().unary(UnaryOp.AFFINE, scale, shift, x.contiguous(), out);
            return out;
        }
        return unary(UnaryOp.AFFINE, x, scale, shift);
    }

    static Tensor unary(UnaryOp op, Tensor x, double p0, double p1) {
        Tensor xc = x.contiguous();
        Tensor out = Tensor.empty(unaryResultType(op, x.dtype()), x.device(), x.shape());
        x.backend().unary(op, p0, p1, xc, out);
        if (!out.dtype().isFloatingPoint()) return out;
        return Autograd.record(op.name().toLowerCase(java.util.Locale.ROOT), out, g -> new Tensor[] {switch (op) {
            case NEG -> g.neg();
            case EXP -> g.mul(out);
            case LOG -> g.div(x);
            case SQRT -> g.div(out).mul(0.5);
            case RSQRT -> g.mul(out.pow(3)).mul(-0.5);
            case ABS -> g.mul(x.sign());
            case SIGN -> Tensor.zerosLike(g);
            case SQUARE -> g.mul(x).mul(2.0);
            case RECIPROCAL -> g.mul(out.square()).neg();
            case TANH -> g.mul(out.square().neg().add(1.0));
            case SIGMOID -> g.mul(out.mul(out.neg().add(1.0)));
            case RELU -> binary(BinaryOp.RELU_BACKWARD, g, x); // g * (x > 0) in one pass
            // one pass: 16-bit activations (bf16 autocast) with gelu' not rounded to bf16 first; F32 with gelu' rounded to
            // float as the two passes did (the same bits); F64 keeps the two passes
            case GELU -> x.dtype().isHalf() || x.dtype() == DType.F32 && g.dtype() == DType.F32 ? binary(BinaryOp.GELU_BACKWARD, g, x)
                    : g.mul(unary(UnaryOp.GELU_GRAD, x, 0, 0));
            case GELU_TANH -> g.mul(unary(UnaryOp.GELU_TANH_GRAD, x, 0, 0));
            case SILU -> g.mul(unary(UnaryOp.SILU_GRAD, x, 0, 0));
            case POW -> p0 == 0 ? Tensor.zerosLike(g) : g.mul(x.pow(p0 - 1)).mul(p0);
            case CLAMP -> g.mul(unary(UnaryOp.INSIDE, x, p0, p1));
            case AFFINE -> g.mul(p0);
            case RPOW -> g.mul(out).mul(Math.log(p0));
            default -> throw new IllegalStateException("no gradient for " + op);
        }}, x);
    }

    /** out[i] = cond[i] ? a[i] : b[i] with broadcasting. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        checkSameDevice("where", a, b);
        checkSameDevice("where", cond, a);
        if (cond.dtype() != DType.BOOL) {
            throw new IllegalArgumentException("where: condition must be BOOL, got " + cond.dtype() + " " + Shape.str(cond.shape()));
        }
        int[] shape = Shape.broadcast("where", Shape.broadcast("where", cond.shape(), a.shape()), b.shape());
        DType dt = DType.promote(a.dtype(), b.dtype());
        Tensor ac = a.dtype() == dt ? a : rawConvert(a, dt);
        Tensor bc = b.dtype() == dt ? b : rawConvert(b, dt);
        Tensor out = Tensor.empty(dt, a.device(), shape);
        a.backend().where(Views.broadcastTo("where", cond, shape), Views.broadcastTo("where", ac, shape),
                Views.broadcastTo("where", bc, shape), out);
        if (!dt.isFloatingPoint()) return out;
        int[] sa = a.shape(), sb = b.shape();
        return Autograd.record("where", out, g -> {
            Tensor zero = Tensor.full(0, g.dtype(), g.device());
            return new Tensor[] {
                null,
                a.requiresGrad ? Reductions.sumTo(where(cond, g, zero), sa) : null,
                b.requiresGrad ? Reductions.sumTo(where(cond, zero, g), sb) : null};
        }, cond, a, b);
    }

    static Tensor maskedFill(Tensor x, Tensor mask, double value) {
        if (mask.dtype() != DType.BOOL) {
            throw new IllegalArgumentException("maskedFill: mask must be BOOL, got " + mask.dtype() + " " + Shape.str(mask.shape()));
        }
        Shape.broadcast("maskedFill", x.shape(), mask.shape());
        Tensor v = Tensor.full(value, x.dtype(), x.device());
        Tensor out = where(mask, v, x);
        if (out.dim() != x.dim() || !java.util.Arrays.equals(out.shape(), x.shape())) {
            throw new IllegalArgumentException("maskedFill: mask " + Shape.str(mask.shape()) + " does not broadcast to "
                    + Shape.str(x.shape()));
        }
        return out;
    }
}
