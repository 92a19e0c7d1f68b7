package io.github.transformers4j.cuda;

import java.util.Arrays;

/**
 * The shape and per-tensor strides (in elements) of up to 4 tensors walked together, with dims of size 1 dropped and
 * dims merged where every tensor is contiguous across them: a contiguous [B, T, C] is one dim of B*T*C, a broadcast
 * bias [B*T, C] with strides (0, 1) stays two. Passed to kernels as {@code struct Layout} of common.cuh
 * ({@link #words()}); more than {@link #MAX_DIMS} dims after collapsing are split by {@link #chunks()}.
 */
record StridedLayout(long[] shape, long[][] strides) {
    static final int MAX_DIMS = 8, MAX_TENSORS = 4;

    /** strides[t] are tensor t's strides for {@code shape}. */
    static StridedLayout of(int[] shape, long[]... strides) {
        if (strides.length > MAX_TENSORS) throw new IllegalArgumentException("at most " + MAX_TENSORS + " tensors");
        int nt = strides.length;
        long[] s = new long[shape.length];
        long[][] st = new long[nt][shape.length];
        int nd = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) continue;
            boolean merge = nd > 0;
            for (int t = 0; t < nt && merge; t++) merge = st[t][nd - 1] == strides[t][d] * shape[d];
            if (merge) {
                s[nd - 1] *= shape[d];
                for (int t = 0; t < nt; t++) st[t][nd - 1] = strides[t][d];
            } else {
                s[nd] = shape[d];
                for (int t = 0; t < nt; t++) st[t][nd] = strides[t][d];
                nd++;
            }
        }
        if (nd == 0) { // a single element
            return new StridedLayout(new long[] {1}, new long[nt][1]);
        }
        long[][] cut = new long[nt][];
        for (int t = 0; t < nt; t++) cut[t] = Arrays.copyOf(st[t], nd);
        return new StridedLayout(Arrays.copyOf(s, nd), cut);
    }

    int ndim() { return shape.length; }

    long numel() {
        long n = 1;
        for (long v : shape) n *= v;
        return n;
    }

    /** The words of {@code struct Layout { i64 ndim; i64 shape[8]; i64 stride[4][8]; }}. */
    long[] words() {
        if (ndim() > MAX_DIMS) throw new IllegalStateException("layout of " + ndim() + " dims: split it with chunks()");
        long[] w = new long[1 + MAX_DIMS + MAX_TENSORS * MAX_DIMS];
        w[0] = ndim();
        System.arraycopy(shape, 0, w, 1, ndim());
        for (int t = 0; t < strides.length; t++) System.arraycopy(strides[t], 0, w, 1 + MAX_DIMS + t * MAX_DIMS, ndim());
        return w;
    }

    /** One piece of a layout: element offsets to add to each tensor's base, and the inner layout. */
    record Chunk(long[] offsets, StridedLayout inner) {}

    /** This layout as kernel-sized pieces: itself when it fits, else one piece per index of the leading dims. */
    Chunk[] chunks() {
        int nt = strides.length;
        if (ndim() <= MAX_DIMS) return new Chunk[] {new Chunk(new long[nt], this)};
        int lead = ndim() - MAX_DIMS;
        long count = 1;
        for (int d = 0; d < lead; d++) count *= shape[d];
        if (count > 1 << 20) throw new UnsupportedOperationException("CUDA kernels take at most " + MAX_DIMS
                + " non-mergeable dims; this view has " + ndim() + " with " + count + " leading positions");
        long[][] innerStrides = new long[nt][];
        for (int t = 0; t < nt; t++) innerStrides[t] = Arrays.copyOfRange(strides[t], lead, ndim());
        StridedLayout inner = new StridedLayout(Arrays.copyOfRange(shape, lead, ndim()), innerStrides);
        Chunk[] out = new Chunk[(int) count];
        long[] idx = new long[lead];
        for (int c = 0; c < count; c++) {
            long[] off = new long[nt];
            for (int d = 0; d < lead; d++) for (int t = 0; t < nt; t++) off[t] += idx[d] * strides[t][d];
            out[c] = new Chunk(off, inner);
            for (int d = lead - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Layout" + Arrays.toString(shape));
        for (long[] s : strides) sb.append(' ').append(Arrays.toString(s));
        return sb.toString();
    }
}
