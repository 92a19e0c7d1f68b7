package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** copy, fill, unary, binary and where: a vectorised F32 path for the common layouts, a generic strided path for the rest. */
final class CpuElementwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final FloatVector ZERO = FloatVector.zero(S), ONE = FloatVector.broadcast(S, 1f);
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Most elements of one row that one task takes (a multiple of every vector length). */
    private static final int CHUNK = 1 << 15;

    private CpuElementwise() {}

    // ------------------------------------------------------------ copy / fill

    static void copy(Tensor src, Tensor dst) {
        if (dst.numel() == 0) return; // an empty tensor's strides can point past its storage: nothing to touch
        MemorySegment s = Access.seg(src), d = Access.seg(dst);
        DType st = src.dtype(), dt = dst.dtype();
        if (src.isContiguous() && dst.isContiguous() && st == dt) {
            long es = st.byteSize();
            MemorySegment.copy(s, src.storageOffset() * es, d, dst.storageOffset() * es, src.numel() * es);
            return;
        }
        StridedLoop L = new StridedLoop(dst.shape(), src.stride(), dst.stride());
        long so = src.storageOffset(), dof = dst.storageOffset();
        long ss = L.innerStride(0), ds = L.innerStride(1), n = L.inner;
        Parallel.forRange((int) L.outer, L.grain(), (a, b) -> {
            long[] off = new long[2];
            int[] idx = new int[L.shape.length];
            L.start(a, off, idx);
            for (int o = a; o < b; o++, L.next(off, idx)) {
                long i0 = so + off[0], j0 = dof + off[1];
                if (st == DType.F32 && dt == DType.F32 && ss == 1 && ds == 1) {
                    copyF32(s, i0, d, j0, (int) n);
                } else if (st == DType.F32 && dt == DType.F32) {
                    for (long i = 0; i < n; i++) d.setAtIndex(JAVA_FLOAT, j0 + i * ds, s.getAtIndex(JAVA_FLOAT, i0 + i * ss));
                } else if (st == DType.F32 && dt == DType.BF16) { // the mixed-precision casts, without the double round trip
                    for (long i = 0; i < n; i++) d.setAtIndex(JAVA_SHORT, j0 + i * ds, Access.floatToBf16(s.getAtIndex(JAVA_FLOAT, i0 + i * ss)));
                } else if (st == DType.BF16 && dt == DType.F32) {
                    for (long i = 0; i < n; i++) d.setAtIndex(JAVA_FLOAT, j0 + i * ds, Access.bf16ToFloat(s.getAtIndex(JAVA_SHORT, i0 + i * ss)));
                } else if (st == dt && (st == DType.I64 || st == DType.F64)) {
                    for (long i = 0; i < n; i++) {
                        long bits = s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i0 + i * ss);
                        d.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, j0 + i * ds, bits);
                    }
                } else if (st == DType.I64 || dt == DType.I64) {
                    for (long i = 0; i < n; i++) {
                        if (dt == DType.I64 && !st.isFloatingPoint()) {
                            d.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, j0 + i * ds, Access.getLong(s, st, i0 + i * ss));
                        } else {
                            Access.set(d, dt, j0 + i * ds, Access.get(s, st, i0 + i * ss));
                        }
                    }
                } else {
                    for (long i = 0; i < n; i++) Access.set(d, dt, j0 + i * ds, Access.get(s, st, i0 + i * ss));
                }
            }
        });
    }

    /**
     * n floats from element {@code from} of s to element {@code to} of d: short runs (a head's row) by vectors, where
     * {@code MemorySegment.copy}'s checks and stub call cost more than the copy.
     */
    private static void copyF32(MemorySegment s, long from, MemorySegment d, long to, int n) {
        if (n >= 256) {
            MemorySegment.copy(s, from * 4, d, to * 4, n * 4L);
            return;
        }
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) load(s, from * 4, i).intoMemorySegment(d, (to + i) * 4, NO);
        for (; i < n; i++) d.setAtIndex(JAVA_FLOAT, to + i, s.getAtIndex(JAVA_FLOAT, from + i));
    }

    static void fill(Tensor dst, double v) {
        MemorySegment d = Access.seg(dst);
        long n = dst.numel(), o = dst.storageOffset();
        DType t = dst.dtype();
        if (v == 0 && t != DType.BOOL) {
            d.asSlice(o * t.byteSize(), n * t.byteSize()).fill((byte) 0);
            return;
        }
        if (t == DType.F32) {
            float f = (float) v;
            for (long i = 0; i < n; i++) d.setAtIndex(JAVA_FLOAT, o + i, f);
            return;
        }
        for (long i = 0; i < n; i++) Access.set(d, t, o + i, v);
    }

    // ------------------------------------------------------------ unary

    static void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out) {
        MemorySegment xs = Access.seg(x), os = Access.seg(out);
        long xo = x.storageOffset(), oo = out.storageOffset();
        int n = Math.toIntExact(x.numel());
        if (x.dtype() == DType.F32 && out.dtype() == DType.F32) {
            Parallel.forRange(n, 16384, (a, b) -> unaryF32(op, (float) p0, (float) p1, xs, xo, os, oo, a, b));
            return;
        }
        DType xt = x.dtype(), ot = out.dtype();
        Parallel.forRange(n, 16384, (a, b) -> {
            for (int i = a; i < b; i++) Access.set(os, ot, oo + i, Scalar.unary(op, p0, p1, Access.get(xs, xt, xo + i)));
        });
    }

    /**
     * One loop per op, each with straight-line vector code: a vector that flows through a switch inside the loop, or
     * through a helper too big to inline, is boxed, an allocation per vector that made GELU three times slower.
     */
    private static void unaryF32(UnaryOp op, float p0, float p1, MemorySegment xs, long xo, MemorySegment os, long oo, int a, int b) {
        long x0 = (xo + a) * 4, o0 = (oo + a) * 4;
        int n = S.loopBound(b - a), L = S.length();
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i += L) load(xs, x0, i).neg().intoMemorySegment(os, o0 + 4L * i, NO); }
            case ABS -> { for (int i = 0; i < n; i += L) load(xs, x0, i).abs().intoMemorySegment(os, o0 + 4L * i, NO); }
            case SQUARE -> { for (int i = 0; i < n; i += L) { FloatVector v = load(xs, x0, i); v.mul(v).intoMemorySegment(os, o0 + 4L * i, NO); } }
            case RELU -> { for (int i = 0; i < n; i += L) load(xs, x0, i).max(0f).intoMemorySegment(os, o0 + 4L * i, NO); }
            case AFFINE -> { for (int i = 0; i < n; i += L) load(xs, x0, i).fma(p0, p1).intoMemorySegment(os, o0 + 4L * i, NO); }
            case EXP -> expLoop(xs, x0, os, o0, n);
            case TANH -> tanhLoop(xs, x0, os, o0, n);
            case SQRT -> { for (int i = 0; i < n; i += L) load(xs, x0, i).sqrt().intoMemorySegment(os, o0 + 4L * i, NO); }
            case RECIPROCAL -> { for (int i = 0; i < n; i += L) { FloatVector v = load(xs, x0, i); v.broadcast(1f).div(v).intoMemorySegment(os, o0 + 4L * i, NO); } }
            case SIGMOID -> sigmoidLoop(xs, x0, os, o0, n);
            case SILU -> siluLoop(xs, x0, os, o0, n);
            case GELU -> geluLoop(xs, x0, os, o0, n);
            case GELU_GRAD -> geluGradLoop(xs, x0, os, o0, n);
            case GELU_TANH -> geluTanhLoop(xs, x0, os, o0, n);
            default -> n = 0;
        }
        for (int i = a + n; i < b; i++) {
            float v = xs.getAtIndex(JAVA_FLOAT, xo + i);
            os.setAtIndex(JAVA_FLOAT, oo + i, (float) Scalar.unary(op, p0, p1, v));
        }
    }

    // Each transcendental op's loop is a method of its own: in one method with every op's loop, C2 ran out of inlining
    // budget once a run had used many ops (a training step does), left exp/erf as calls and boxed every vector; GELU
    // and its gradient took 3-4 times their time alone (the CPU step profile, BENCHMARKS.md, session 11).

    private static void expLoop(MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        for (int i = 0; i < n; i += S.length()) VecMath.exp(load(xs, x0, i)).intoMemorySegment(os, o0 + 4L * i, NO);
    }

    private static void tanhLoop(MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        for (int i = 0; i < n; i += S.length()) VecMath.tanh(load(xs, x0, i)).intoMemorySegment(os, o0 + 4L * i, NO);
    }

    private static void sigmoidLoop(MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        for (int i = 0; i < n; i += S.length()) VecMath.sigmoid(load(xs, x0, i)).intoMemorySegment(os, o0 + 4L * i, NO);
    }

    private static void siluLoop(MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        for (int i = 0; i < n; i += S.length()) {
            FloatVector v = load(xs, x0, i);
            v.div(VecMath.exp(v.neg()).add(1f)).intoMemorySegment(os, o0 + 4L * i, NO);
        }
    }

    private static void geluLoop(MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        for (int i = 0; i < n; i += S.length()) VecMath.gelu(load(xs, x0, i)).intoMemorySegment(os, o0 + 4L * i, NO);
    }

    private static void geluGradLoop(MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        for (int i = 0; i < n; i += S.length()) VecMath.geluGrad(load(xs, x0, i)).intoMemorySegment(os, o0 + 4L * i, NO);
    }

    /**
     * out = g * gelu'(x), each gelu'(x) rounded to float before the product: the bits of GELU_GRAD followed by MUL,
     * without the gradient tensor between them. out may be g or x.
     */
    private static void geluBackwardF32(MemorySegment gs, long g0, MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        int vec = S.loopBound(n);
        long xb = 4 * x0, gb = 4 * g0, ob = 4 * o0;
        for (int i = 0; i < vec; i += S.length())
            load(gs, gb, i).mul(VecMath.geluGrad(load(xs, xb, i))).intoMemorySegment(os, ob + 4L * i, NO);
        for (int i = vec; i < n; i++) {
            float grad = (float) Scalar.unary(UnaryOp.GELU_GRAD, 0, 0, xs.getAtIndex(JAVA_FLOAT, x0 + i));
            os.setAtIndex(JAVA_FLOAT, o0 + i, gs.getAtIndex(JAVA_FLOAT, g0 + i) * grad);
        }
    }

    private static void geluTanhLoop(MemorySegment xs, long x0, MemorySegment os, long o0, int n) {
        for (int i = 0; i < n; i += S.length()) VecMath.geluTanh(load(xs, x0, i)).intoMemorySegment(os, o0 + 4L * i, NO);
    }

    private static FloatVector load(MemorySegment s, long base, int i) {
        return FloatVector.fromMemorySegment(S, s, base + 4L * i, NO);
    }

    // ------------------------------------------------------------ binary / where

    static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        MemorySegment as = Access.seg(a), bs = Access.seg(b), os = Access.seg(out);
        StridedLoop L = new StridedLoop(out.shape(), a.stride(), b.stride(), out.stride());
        long ao = a.storageOffset(), bo = b.storageOffset(), oo = out.storageOffset();
        long sa = L.innerStride(0), sb = L.innerStride(1), so = L.innerStride(2);
        int n = (int) L.inner;
        boolean f32 = a.dtype() == DType.F32 && b.dtype() == DType.F32 && out.dtype() == DType.F32;
        DType t = a.dtype(), tb = b.dtype(), ot = out.dtype();
        // rows cut into pieces of at most CHUNK, so that a few long rows (a contiguous op is one row) use every thread
        int pieces = (n + CHUNK - 1) / CHUNK;
        Parallel.forRange(Math.toIntExact(L.outer * pieces), pieces > 1 ? 1 : L.grain(), (lo, hi) -> {
            long[] off = new long[3];
            int[] idx = new int[L.shape.length];
            if (pieces == 1) L.start(lo, off, idx);
            for (int task = lo; task < hi; task++) {
                int o = task / pieces, i0 = task % pieces * CHUNK, len = Math.min(CHUNK, n - i0);
                if (pieces > 1) L.start(o, off, idx);
                else if (task > lo) L.next(off, idx);
                long ia = ao + off[0] + i0 * sa, ib = bo + off[1] + i0 * sb, io = oo + off[2] + i0 * so;
                if (f32 && op == BinaryOp.GELU_BACKWARD && so == 1 && sa == 1 && sb == 1) {
                    geluBackwardF32(as, ia, bs, ib, os, io, len);
                } else if (f32 && so == 1 && (sa == 1 || sa == 0) && (sb == 1 || sb == 0) && vectorizable(op)) {
                    binaryF32(op, as, ia, sa, bs, ib, sb, os, io, len);
                } else if (f32) {
                    for (int i = 0; i < len; i++) {
                        float x = as.getAtIndex(JAVA_FLOAT, ia + i * sa), y = bs.getAtIndex(JAVA_FLOAT, ib + i * sb);
                        os.setAtIndex(JAVA_FLOAT, io + i * so, (float) Scalar.binary(op, x, y));
                    }
                } else {
                    for (int i = 0; i < len; i++) {
                        double r = Scalar.binary(op, Access.get(as, t, ia + i * sa), Access.get(bs, tb, ib + i * sb));
                        Access.set(os, ot, io + i * so, r);
                    }
                }
            }
        });
    }

    private static boolean vectorizable(BinaryOp op) {
        return switch (op) {
            case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, RELU_BACKWARD -> true;
            default -> false;
        };
    }

    /** Inner strides sa, sb in {0, 1}; output stride 1. */
    private static void binaryF32(BinaryOp op, MemorySegment as, long ia, long sa, MemorySegment bs, long ib, long sb,
            MemorySegment os, long io, int n) {
        int i = 0, upper = S.loopBound(n);
        if (sa == 1 && sb == 1 && contiguousF32(op, as, ia, bs, ib, os, io, upper)) i = upper;
        FloatVector ca = sa == 0 ? FloatVector.broadcast(S, as.getAtIndex(JAVA_FLOAT, ia)) : null;
        FloatVector cb = sb == 0 ? FloatVector.broadcast(S, bs.getAtIndex(JAVA_FLOAT, ib)) : null;
        for (; i < upper; i += S.length()) {
            FloatVector x = ca != null ? ca : FloatVector.fromMemorySegment(S, as, (ia + i) * 4, NO);
            FloatVector y = cb != null ? cb : FloatVector.fromMemorySegment(S, bs, (ib + i) * 4, NO);
            FloatVector r = switch (op) {
                case ADD -> x.add(y);
                case SUB -> x.sub(y);
                case MUL -> x.mul(y);
                case DIV -> x.div(y);
                case MAXIMUM -> x.max(y);
                case MINIMUM -> x.min(y);
                case RELU_BACKWARD -> x.mul(ZERO.blend(ONE, y.compare(VectorOperators.GT, 0f))); // x * 1 or x * 0, as Scalar
                default -> throw new IllegalStateException(op.name());
            };
            r.intoMemorySegment(os, (io + i) * 4, NO);
        }
        for (; i < n; i++) {
            float x = as.getAtIndex(JAVA_FLOAT, ia + i * sa), y = bs.getAtIndex(JAVA_FLOAT, ib + i * sb);
            os.setAtIndex(JAVA_FLOAT, io + i, (float) Scalar.binary(op, x, y));
        }
    }

    /**
     * The common case, both operands contiguous (residual adds, products of activations), as one loop per op with
     * nothing between load and store: in the loop above, the vectors flow through the broadcast choice and the op
     * switch, and C2 boxed them (JFR caught this loop's ADD allocating; 5.7-6.0 -> 3.8-4.0 ms a vit-mini-p4 step).
     * False for the ops it leaves to that loop.
     */
    private static boolean contiguousF32(BinaryOp op, MemorySegment as, long ia, MemorySegment bs, long ib,
            MemorySegment os, long io, int upper) {
        long a0 = ia * 4, b0 = ib * 4, o0 = io * 4;
        int L = S.length();
        switch (op) {
            case ADD -> { for (int i = 0; i < upper; i += L) load(as, a0, i).add(load(bs, b0, i)).intoMemorySegment(os, o0 + 4L * i, NO); }
            case SUB -> { for (int i = 0; i < upper; i += L) load(as, a0, i).sub(load(bs, b0, i)).intoMemorySegment(os, o0 + 4L * i, NO); }
            case MUL -> { for (int i = 0; i < upper; i += L) load(as, a0, i).mul(load(bs, b0, i)).intoMemorySegment(os, o0 + 4L * i, NO); }
            default -> { return false; }
        }
        return true;
    }

    static void where(Tensor c, Tensor a, Tensor b, Tensor out) {
        MemorySegment cs = Access.seg(c), as = Access.seg(a), bs = Access.seg(b), os = Access.seg(out);
        StridedLoop L = new StridedLoop(out.shape(), c.stride(), a.stride(), b.stride(), out.stride());
        long co = c.storageOffset(), ao = a.storageOffset(), bo = b.storageOffset(), oo = out.storageOffset();
        long sc = L.innerStride(0), sa = L.innerStride(1), sb = L.innerStride(2), so = L.innerStride(3);
        DType t = a.dtype();
        int n = (int) L.inner;
        Parallel.forRange((int) L.outer, L.grain(), (lo, hi) -> {
            long[] off = new long[4];
            int[] idx = new int[L.shape.length];
            L.start(lo, off, idx);
            for (int o = lo; o < hi; o++, L.next(off, idx)) {
                for (int i = 0; i < n; i++) {
                    boolean pick = cs.get(java.lang.foreign.ValueLayout.JAVA_BYTE, co + off[0] + i * sc) != 0;
                    if (t == DType.F32) {
                        float v = pick ? as.getAtIndex(JAVA_FLOAT, ao + off[1] + i * sa) : bs.getAtIndex(JAVA_FLOAT, bo + off[2] + i * sb);
                        os.setAtIndex(JAVA_FLOAT, oo + off[3] + i * so, v);
                    } else {
                        double v = pick ? Access.get(as, t, ao + off[1] + i * sa) : Access.get(bs, t, bo + off[2] + i * sb);
                        Access.set(os, t, oo + off[3] + i * so, v);
                    }
                }
            }
        });
    }
}
