package io.github.transformers4j.tensor.cpu;

/**
 * Iteration over an n-d index space shared by several strided operands. Adjacent dims that are contiguous for every
 * operand are merged, so most loops run as [outer, inner] with a long unit-or-zero-stride inner dim.
 */
final class StridedLoop {
    final int[] shape;
    final long[][] strides;
    final long inner;
    final long outer;

    StridedLoop(int[] shape, long[]... strides) {
        int n = shape.length;
        int[] sh = new int[Math.max(n, 1)];
        long[][] st = new long[strides.length][Math.max(n, 1)];
        int r = 0;
        if (n == 0) {
            sh[0] = 1;
            r = 1;
        }
        for (int d = 0; d < n; d++) {
            if (shape[d] == 1 && n > 1) continue; // size-1 dims never move an offset
            if (r > 0 && mergeable(sh[r - 1], shape[d], st, strides, r - 1, d)) {
                sh[r - 1] *= shape[d];
                for (int k = 0; k < strides.length; k++) st[k][r - 1] = strides[k][d];
            } else {
                sh[r] = shape[d];
                for (int k = 0; k < strides.length; k++) st[k][r] = strides[k][d];
                r++;
            }
        }
        if (r == 0) {
            sh[0] = 1;
            r = 1;
        }
        this.shape = java.util.Arrays.copyOf(sh, r);
        this.strides = new long[strides.length][];
        for (int k = 0; k < strides.length; k++) this.strides[k] = java.util.Arrays.copyOf(st[k], r);
        this.inner = this.shape[r - 1];
        long o = 1;
        for (int d = 0; d < r - 1; d++) o *= this.shape[d];
        this.outer = o;
    }

    private static boolean mergeable(int prevSize, int size, long[][] acc, long[][] strides, int prev, int d) {
        for (int k = 0; k < strides.length; k++) {
            if (acc[k][prev] != strides[k][d] * size) return false;
        }
        return true;
    }

    long innerStride(int operand) {
        return strides[operand][shape.length - 1];
    }

    /**
     * Offsets (in elements, relative) of every operand at the start of outer row {@code o}, and its index along each
     * outer dim into {@code idx} (length {@code shape.length}), to walk on from there with {@link #next}.
     */
    void start(long o, long[] out, int[] idx) {
        java.util.Arrays.fill(out, 0);
        for (int d = shape.length - 2; d >= 0; d--) {
            idx[d] = (int) (o % shape[d]);
            o /= shape[d];
            for (int k = 0; k < out.length; k++) out[k] += idx[d] * strides[k][d];
        }
    }

    /** From the offsets of one outer row to the next's: an odometer step, no division (the copies of heads are rows of 32-64 floats). */
    void next(long[] out, int[] idx) {
        for (int d = shape.length - 2; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                for (int k = 0; k < out.length; k++) out[k] += strides[k][d];
                return;
            }
            idx[d] = 0;
            for (int k = 0; k < out.length; k++) out[k] -= (shape[d] - 1) * strides[k][d];
        }
    }

    /** Grain in outer rows so each parallel chunk does at least ~32k elements. */
    int grain() {
        return (int) Math.max(1, 32768 / Math.max(inner, 1));
    }
}
