package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention of fp32 heads on the CPU in one pass per head, as the GPU's flash kernels: the scores of a head never
 * leave the thread's buffers (a few rows of Lk at a time), softmax keeps each row's log-sum-exp, and the backward
 * recomputes the weights from it. A task per (batch, head); within it q, k, v are copied into arrays padded to whole
 * vectors (k and v also transposed, (E, Lk), for the row-times-matrix products), so every inner loop is a broadcast
 * and a fused multiply-add over contiguous floats, four rows at a time where there are four (each loaded vector of the
 * matrix serves the four). Deterministic: each output element is summed in one fixed order.
 *
 * <p>Takes F32 calls without dropout (dropout keeps the composite, which draws its keep decisions through
 * {@code Backend.dropout}'s stream); a BOOL mask broadcast to (B, H, Lq, Lk) and causal masking are read per score.
 * A query with no allowed key gets out 0 and lse +inf (then P = 0 in the backward), as on the GPU.
 */
final class CpuAttention implements NnOps.FlashAttentionKernel {
    static final CpuAttention INSTANCE = new CpuAttention();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    private CpuAttention() {}

    private static final java.util.concurrent.atomic.LongAdder CALLS = new java.util.concurrent.atomic.LongAdder();

    /** Forward and backward calls since start (tests check that the one-pass path ran). */
    static long calls() { return CALLS.sum(); }

    @Override
    public boolean supports(int headDim) {
        return headDim > 0;
    }

    @Override
    public boolean supportsCausal() {
        return true;
    }

    @Override
    public boolean supportsDropout() {
        return false;
    }

    /** Query rows per block of the backward (the block's weights and their gradients are kept for its dk and dv). */
    private static final int QB = 64;

    /**
     * One thread's arrays for a head, grown as needed: q, k, v, out, dout rows padded to ep; k^T, v^T (ep, lkp); a
     * block of weights P and of their gradients dS (QB, lkp); dk and dv sums transposed (ep, lkp).
     */
    private static final class Buffers {
        float[] q = new float[0], k = new float[0], v = new float[0], o = new float[0], d = new float[0];
        float[] kt = new float[0], vt = new float[0], p = new float[0], ds = new float[0];
        float[] dk = new float[0], dv = new float[0], row = new float[0], row4 = new float[0];

        void size(int lq, int lk, int ep, int lkp) {
            if (q.length < lq * ep) { q = new float[lq * ep]; o = new float[lq * ep]; d = new float[lq * ep]; }
            if (k.length < lk * ep) { k = new float[lk * ep]; v = new float[lk * ep]; }
            if (kt.length < ep * lkp) { kt = new float[ep * lkp]; vt = new float[ep * lkp]; dk = new float[ep * lkp]; dv = new float[ep * lkp]; }
            if (p.length < QB * lkp) { p = new float[QB * lkp]; ds = new float[QB * lkp]; }
            if (row.length < ep) { row = new float[ep]; row4 = new float[4 * ep]; }
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** Whole vectors covering n. */
    private static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    @Override
    public void forward(NnOps.FlashAttention a, Tensor out, Tensor lse) {
        CALLS.increment();
        check(a.q(), a.k(), a.v(), out);
        int lq = a.q().size(2), lk = a.k().size(2), e = a.q().size(3), ep = padded(e), lkp = padded(lk);
        float scale = (float) a.scale();
        MemorySegment lseSeg = Access.seg(lse);
        long lse0 = lse.storageOffset();
        eachHead(a, (bf, bh, b, h) -> {
            float[] s = bf.p, o = bf.o;
            for (int i = 0; i < lq; ) {
                int g = i + 4 <= lq ? 4 : 1; // rows at once
                if (g == 4) rows4(bf.q, i * ep, ep, 1, e, bf.kt, 0, lkp, s, 0, lkp, false);
                else rowTimes(bf.q, i * ep, e, bf.kt, 0, lkp, s, 0, false);
                for (int r = 0; r < g; r++) {
                    float m = maskRow(a, b, h, i + r, lk, lkp, scale, s, r * lkp);
                    float l = Float.POSITIVE_INFINITY;
                    if (m == Float.NEGATIVE_INFINITY) {
                        java.util.Arrays.fill(s, r * lkp, (r + 1) * lkp, 0f); // no allowed key: P = 0, out 0
                    } else {
                        float sum = expRow(s, r * lkp, lkp, m);
                        scaleRow(s, r * lkp, lkp, 1f / sum);
                        l = m + (float) Math.log(sum);
                    }
                    lseSeg.setAtIndex(JAVA_FLOAT, lse0 + (long) bh * lq + i + r, l);
                }
                if (g == 4) rows4(s, 0, lkp, 1, lk, bf.v, 0, ep, o, 0, ep, false); // out_i = P_i V
                else rowTimes(s, 0, lk, bf.v, 0, ep, o, 0, false);
                for (int r = 0; r < g; r++) store(out, b, h, i + r, e, o, r * ep);
                i += g;
            }
        });
    }

    /**
     * Per head, in blocks of QB queries: P from lse, dP = dout V^T, dS = scale P (dP - delta) row by row with
     * dq = dS k; then dv^T += dout^T P and dk^T += q^T dS over the block (each sum over queries in order).
     */
    @Override
    public void backward(NnOps.FlashAttention a, Tensor out, Tensor lse, Tensor dout, Tensor delta, Tensor dq, Tensor dk, Tensor dv) {
        CALLS.increment();
        check(a.q(), a.k(), a.v(), out, dout, dq, dk, dv);
        int lq = a.q().size(2), lk = a.k().size(2), e = a.q().size(3), ep = padded(e), lkp = padded(lk);
        float scale = (float) a.scale();
        MemorySegment lseSeg = Access.seg(lse);
        long lse0 = lse.storageOffset();
        eachHead(a, (bf, bh, b, h) -> {
            transpose(bf.v, lk, ep, bf.vt, lkp);
            load(out, b, h, lq, e, ep, bf.o);
            load(dout, b, h, lq, e, ep, bf.d);
            for (int i0 = 0; i0 < lq; i0 += QB) {
                int n = Math.min(QB, lq - i0);
                for (int r = 0; r < n; ) {
                    int g = r + 4 <= n ? 4 : 1, i = i0 + r, at = r * lkp; // g rows at once
                    if (g == 4) {
                        rows4(bf.q, i * ep, ep, 1, e, bf.kt, 0, lkp, bf.p, at, lkp, false);   // q_i k^T
                        rows4(bf.d, i * ep, ep, 1, e, bf.vt, 0, lkp, bf.ds, at, lkp, false);  // dP_i = dout_i V^T
                    } else {
                        rowTimes(bf.q, i * ep, e, bf.kt, 0, lkp, bf.p, at, false);
                        rowTimes(bf.d, i * ep, e, bf.vt, 0, lkp, bf.ds, at, false);
                    }
                    for (int t = 0; t < g; t++) {
                        int row = at + t * lkp;
                        float l = lseSeg.getAtIndex(JAVA_FLOAT, lse0 + (long) bh * lq + i + t);
                        if (l == Float.POSITIVE_INFINITY) { // no allowed key: P = 0, dS = 0
                            java.util.Arrays.fill(bf.p, row, row + lkp, 0f);
                            java.util.Arrays.fill(bf.ds, row, row + lkp, 0f);
                        } else {
                            maskRow(a, b, h, i + t, lk, lkp, scale, bf.p, row);
                            expRow(bf.p, row, lkp, l);                                       // P = exp(s - lse)
                            float di = dot(bf.d, (i + t) * ep, bf.o, (i + t) * ep, ep);      // delta_i = dout_i . out_i
                            gradScores(bf.p, bf.ds, row, lkp, di, scale);                    // dS = scale P (dP - delta_i)
                        }
                    }
                    if (g == 4) rows4(bf.ds, at, lkp, 1, lk, bf.k, 0, ep, bf.row4, 0, ep, false); // dq_i = dS_i k
                    else rowTimes(bf.ds, at, lk, bf.k, 0, ep, bf.row4, 0, false);
                    for (int t = 0; t < g; t++) store(dq, b, h, i + t, e, bf.row4, t * ep);
                    r += g;
                }
                // dv^T row c += dout[:, c] P and dk^T row c += q[:, c] dS over the block's queries (keys in lanes)
                int c = 0;
                for (; c + 4 <= e; c += 4) {
                    rows4(bf.d, i0 * ep + c, 1, ep, n, bf.p, 0, lkp, bf.dv, c * lkp, lkp, i0 > 0);
                    rows4(bf.q, i0 * ep + c, 1, ep, n, bf.ds, 0, lkp, bf.dk, c * lkp, lkp, i0 > 0);
                }
                for (; c < e; c++) {
                    rowTimes(bf.d, i0 * ep + c, ep, n, bf.p, 0, lkp, bf.dv, c * lkp, i0 > 0);
                    rowTimes(bf.q, i0 * ep + c, ep, n, bf.ds, 0, lkp, bf.dk, c * lkp, i0 > 0);
                }
            }
            for (int j = 0; j < lk; j++) {
                storeColumn(dk, b, h, j, e, bf.dk, lkp, bf.row);
                storeColumn(dv, b, h, j, e, bf.dv, lkp, bf.row);
            }
        });
    }

    /** What runs for one head once its q, k (also as k^T) and v are in the thread's buffers. */
    private interface HeadBody {
        void run(Buffers bf, int bh, int b, int h);
    }

    /** A task per (batch, head): the thread's buffers sized, the head's q, k, k^T, v loaded, then body. */
    private static void eachHead(NnOps.FlashAttention a, HeadBody body) {
        Tensor q = a.q(), k = a.k(), v = a.v();
        int heads = q.size(1), lq = q.size(2), lk = k.size(2), e = q.size(3), ep = padded(e), lkp = padded(lk);
        Parallel.forRange(q.size(0) * heads, 1, (lo, hi) -> {
            Buffers bf = BUFFERS.get();
            bf.size(lq, lk, ep, lkp);
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads;
                load(q, b, h, lq, e, ep, bf.q);
                load(k, b, h, lk, e, ep, bf.k);
                transpose(bf.k, lk, ep, bf.kt, lkp);
                load(v, b, h, lk, e, ep, bf.v);
                body.run(bf, bh, b, h);
            }
        });
    }

    /**
     * Row i's products q_i k_j in s[s0, s0 + lkp), scaled, masked keys and the padding beyond lk set to -inf; returns
     * the row's maximum (-inf when no key is allowed).
     */
    private static float maskRow(NnOps.FlashAttention a, int b, int h, int i, int lk, int lkp, float scale, float[] s, int s0) {
        Tensor m = a.masked();
        int allowed = a.causal() ? Math.min(lk, i + 1) : lk;
        if (m == null) { // scale, -inf beyond the allowed keys, the maximum (any order gives the same maximum)
            FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < lkp; j += L) {
                FloatVector x = FloatVector.fromArray(S, s, s0 + j).mul(scale);
                if (j + L > allowed) x = x.blend(Float.NEGATIVE_INFINITY, S.indexInRange(j, allowed).not()); // lanes j + n >= allowed
                x.intoArray(s, s0 + j);
                max = max.max(x);
            }
            return max.reduceLanes(jdk.incubator.vector.VectorOperators.MAX);
        }
        MemorySegment ms = Access.seg(m);
        long mo = m.storageOffset() + b * m.stride(0) + h * m.stride(1) + (long) i * m.stride(2), mj = m.stride(3);
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < lkp; j++) {
            boolean banned = j >= allowed || ms.get(JAVA_BYTE, mo + j * mj) != 0;
            float x = banned ? Float.NEGATIVE_INFINITY : s[s0 + j] * scale;
            s[s0 + j] = x;
            if (x > max) max = x;
        }
        return max;
    }

    /**
     * out[o0, o0 + n) (+)= sum over c < e of x[x0 + c] times row c of mat (rows of n floats from m0): a row vector
     * times a matrix; n whole vectors. Four vectors of out at a time (four independent chains of multiply-adds), the
     * rest with even and odd c in two chains added at the end: a fixed order per lane, so the same bits every time.
     */
    private static void rowTimes(float[] x, int x0, int e, float[] mat, int m0, int n, float[] out, int o0, boolean accumulate) {
        rowTimes(x, x0, 1, e, mat, m0, n, out, o0, accumulate);
    }

    /** As above with x read at x0 + c * xs (a column of a row-major matrix when xs is its row length). */
    private static void rowTimes(float[] x, int x0, int xs, int e, float[] mat, int m0, int n, float[] out, int o0, boolean accumulate) {
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            FloatVector a0 = start(out, o0 + j, accumulate), a1 = start(out, o0 + j + L, accumulate);
            FloatVector a2 = start(out, o0 + j + 2 * L, accumulate), a3 = start(out, o0 + j + 3 * L, accumulate);
            for (int c = 0, r = m0 + j, xi = x0; c < e; c++, r += n, xi += xs) {
                FloatVector xc = FloatVector.broadcast(S, x[xi]);
                a0 = FloatVector.fromArray(S, mat, r).fma(xc, a0);
                a1 = FloatVector.fromArray(S, mat, r + L).fma(xc, a1);
                a2 = FloatVector.fromArray(S, mat, r + 2 * L).fma(xc, a2);
                a3 = FloatVector.fromArray(S, mat, r + 3 * L).fma(xc, a3);
            }
            a0.intoArray(out, o0 + j);
            a1.intoArray(out, o0 + j + L);
            a2.intoArray(out, o0 + j + 2 * L);
            a3.intoArray(out, o0 + j + 3 * L);
        }
        for (; j < n; j += L) {
            FloatVector even = start(out, o0 + j, accumulate), odd = FloatVector.zero(S);
            int c = 0, r = m0 + j, xi = x0;
            for (; c + 1 < e; c += 2, r += 2 * n, xi += 2 * xs) {
                even = FloatVector.fromArray(S, mat, r).fma(FloatVector.broadcast(S, x[xi]), even);
                odd = FloatVector.fromArray(S, mat, r + n).fma(FloatVector.broadcast(S, x[xi + xs]), odd);
            }
            if (c < e) even = FloatVector.fromArray(S, mat, r).fma(FloatVector.broadcast(S, x[xi]), even);
            even.add(odd).intoArray(out, o0 + j);
        }
    }

    /**
     * Four rows at once: out[o0 + r * or, + n) (+)= sum over k < e of x[x0 + r * xr + k * xk] times row k of mat (rows
     * of n floats from m0), r < 4. Each loaded vector of mat serves the four rows (a quarter of rowTimes's loads), two
     * vectors of n at a time: eight independent chains. Per element the sum runs over k in order.
     */
    private static void rows4(float[] x, int x0, int xr, int xk, int e, float[] mat, int m0, int n, float[] out, int o0, int or,
            boolean accumulate) {
        int j = 0;
        for (; j + 2 * L <= n; j += 2 * L) {
            FloatVector a00 = start(out, o0 + j, accumulate), a01 = start(out, o0 + j + L, accumulate);
            FloatVector a10 = start(out, o0 + or + j, accumulate), a11 = start(out, o0 + or + j + L, accumulate);
            FloatVector a20 = start(out, o0 + 2 * or + j, accumulate), a21 = start(out, o0 + 2 * or + j + L, accumulate);
            FloatVector a30 = start(out, o0 + 3 * or + j, accumulate), a31 = start(out, o0 + 3 * or + j + L, accumulate);
            for (int k = 0, r = m0 + j, xi = x0; k < e; k++, r += n, xi += xk) {
                FloatVector m0v = FloatVector.fromArray(S, mat, r), m1v = FloatVector.fromArray(S, mat, r + L);
                FloatVector x0v = FloatVector.broadcast(S, x[xi]), x1v = FloatVector.broadcast(S, x[xi + xr]);
                FloatVector x2v = FloatVector.broadcast(S, x[xi + 2 * xr]), x3v = FloatVector.broadcast(S, x[xi + 3 * xr]);
                a00 = m0v.fma(x0v, a00);
                a01 = m1v.fma(x0v, a01);
                a10 = m0v.fma(x1v, a10);
                a11 = m1v.fma(x1v, a11);
                a20 = m0v.fma(x2v, a20);
                a21 = m1v.fma(x2v, a21);
                a30 = m0v.fma(x3v, a30);
                a31 = m1v.fma(x3v, a31);
            }
            a00.intoArray(out, o0 + j);
            a01.intoArray(out, o0 + j + L);
            a10.intoArray(out, o0 + or + j);
            a11.intoArray(out, o0 + or + j + L);
            a20.intoArray(out, o0 + 2 * or + j);
            a21.intoArray(out, o0 + 2 * or + j + L);
            a30.intoArray(out, o0 + 3 * or + j);
            a31.intoArray(out, o0 + 3 * or + j + L);
        }
        for (; j < n; j += L) {
            FloatVector a0 = start(out, o0 + j, accumulate), a1 = start(out, o0 + or + j, accumulate);
            FloatVector a2 = start(out, o0 + 2 * or + j, accumulate), a3 = start(out, o0 + 3 * or + j, accumulate);
            for (int k = 0, r = m0 + j, xi = x0; k < e; k++, r += n, xi += xk) {
                FloatVector mv = FloatVector.fromArray(S, mat, r);
                a0 = mv.fma(FloatVector.broadcast(S, x[xi]), a0);
                a1 = mv.fma(FloatVector.broadcast(S, x[xi + xr]), a1);
                a2 = mv.fma(FloatVector.broadcast(S, x[xi + 2 * xr]), a2);
                a3 = mv.fma(FloatVector.broadcast(S, x[xi + 3 * xr]), a3);
            }
            a0.intoArray(out, o0 + j);
            a1.intoArray(out, o0 + or + j);
            a2.intoArray(out, o0 + 2 * or + j);
            a3.intoArray(out, o0 + 3 * or + j);
        }
    }

    private static FloatVector start(float[] out, int at, boolean accumulate) {
        return accumulate ? FloatVector.fromArray(S, out, at) : FloatVector.zero(S);
    }

    /** s[s0 + j] = exp(s[s0 + j] - m) over n (whole vectors); returns their sum (in lanes, then across them in order). */
    private static float expRow(float[] s, int s0, int n, float m) {
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < n; j += L) {
            FloatVector p = VecMath.exp(FloatVector.fromArray(S, s, s0 + j).sub(m));
            p.intoArray(s, s0 + j);
            sum = sum.add(p);
        }
        return (float) VecMath.sum(sum);
    }

    private static void scaleRow(float[] s, int s0, int n, float f) {
        for (int j = 0; j < n; j += L) FloatVector.fromArray(S, s, s0 + j).mul(f).intoArray(s, s0 + j);
    }

    /** ds[at + j] = scale * p (dP - delta) with dP read from ds, over n (whole vectors). */
    private static void gradScores(float[] p, float[] ds, int at, int n, float delta, float scale) {
        for (int j = 0; j < n; j += L) {
            FloatVector pj = FloatVector.fromArray(S, p, at + j);
            FloatVector.fromArray(S, ds, at + j).sub(delta).mul(pj).mul(scale).intoArray(ds, at + j);
        }
    }

    private static float dot(float[] x, int x0, float[] y, int y0, int n) {
        FloatVector acc = FloatVector.zero(S);
        for (int c = 0; c < n; c += L) acc = FloatVector.fromArray(S, x, x0 + c).fma(FloatVector.fromArray(S, y, y0 + c), acc);
        return (float) VecMath.sum(acc);
    }

    /** dst (ep, lp) = src (l, ep) transposed, zeros in columns [l, lp). */
    private static void transpose(float[] src, int l, int ep, float[] dst, int lp) {
        for (int c = 0; c < ep; c++) {
            for (int r = 0; r < l; r++) dst[c * lp + r] = src[r * ep + c];
            java.util.Arrays.fill(dst, c * lp + l, (c + 1) * lp, 0f);
        }
    }

    /** Row j of head (b, h) of t from column j of src (e rows of lp floats), gathered through row. */
    private static void storeColumn(Tensor t, int b, int h, int j, int e, float[] src, int lp, float[] row) {
        for (int c = 0; c < e; c++) row[c] = src[c * lp + j];
        store(t, b, h, j, e, row, 0);
    }

    /** Rows [0, l) of head (b, h) of t (B, H, L, E) into dst, row r at r * ep, zero-padded to ep. */
    private static void load(Tensor t, int b, int h, int l, int e, int ep, float[] dst) {
        MemorySegment seg = Access.seg(t);
        long base = t.storageOffset() + b * t.stride(0) + h * t.stride(1), rs = t.stride(2);
        if (e == ep) { // whole vectors: no copy call per row
            for (int r = 0; r < l; r++) {
                long at = 4 * (base + r * rs);
                for (int c = 0; c < e; c += L) FloatVector.fromMemorySegment(S, seg, at + 4L * c, NO).intoArray(dst, r * ep + c);
            }
            return;
        }
        for (int r = 0; r < l; r++) {
            MemorySegment.copy(seg, JAVA_FLOAT, 4 * (base + r * rs), dst, r * ep, e);
            java.util.Arrays.fill(dst, r * ep + e, (r + 1) * ep, 0f);
        }
    }

    /** Row r of head (b, h) of t from src[from, from + e). */
    private static void store(Tensor t, int b, int h, int r, int e, float[] src, int from) {
        long at = t.storageOffset() + b * t.stride(0) + h * t.stride(1) + r * t.stride(2);
        MemorySegment seg = Access.seg(t);
        if (e % L == 0) {
            for (int c = 0; c < e; c += L) FloatVector.fromArray(S, src, from + c).intoMemorySegment(seg, 4 * (at + c), NO);
        } else {
            MemorySegment.copy(src, from, seg, JAVA_FLOAT, 4 * at, e);
        }
    }

    private static void check(Tensor... ts) {
        for (Tensor t : ts) {
            if (t.dtype() != DType.F32 || t.dim() != 4 || t.stride(3) != 1) {
                throw new IllegalArgumentException("CPU attention: expected F32 (B, H, L, E) views with last stride 1, got "
                        + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + " strides " + java.util.Arrays.toString(t.stride()));
            }
        }
    }
}
