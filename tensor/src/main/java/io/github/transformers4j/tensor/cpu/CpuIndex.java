package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** index_select / index_add / gather / scatter_add. Accumulating kernels keep a fixed order (deterministic). */
final class CpuIndex {
    private CpuIndex() {}

    private static long checked(String op, MemorySegment is, long at, long n) {
        long v = is.getAtIndex(JAVA_LONG, at);
        if (v < 0 || v >= n) {
            throw new IndexOutOfBoundsException(op + ": index " + v + " out of range for dimension of size " + n + " (expected 0 <= index < " + n + ")");
        }
        return v;
    }

    static void indexSelect(Tensor src, long outer, long n, long inner, Tensor index, Tensor out) {
        MemorySegment ss = Access.seg(src), is = Access.seg(index), os = Access.seg(out);
        long m = index.numel(), so = src.storageOffset(), io = index.storageOffset(), oo = out.storageOffset();
        long es = src.dtype().byteSize();
        for (long j = 0; j < m; j++) checked("indexSelect", is, io + j, n);
        Parallel.forRange((int) (outer * m), (int) Math.max(1, 16384 / Math.max(inner, 1)), (a, b) -> {
            for (int r = a; r < b; r++) {
                long o = r / m, j = r % m;
                long row = checked("indexSelect", is, io + j, n);
                MemorySegment.copy(ss, (so + (o * n + row) * inner) * es, os, (oo + (o * m + j) * inner) * es, inner * es);
            }
        });
    }

    static void indexAdd(Tensor dst, long outer, long n, long inner, Tensor index, Tensor src) {
        MemorySegment ds = Access.seg(dst), is = Access.seg(index), ss = Access.seg(src);
        long m = index.numel(), dO = dst.storageOffset(), io = index.storageOffset(), so = src.storageOffset();
        DType t = dst.dtype();
        for (long j = 0; j < m; j++) checked("indexAdd", is, io + j, n);
        // parallel over (outer, column blocks); indices in order inside each task
        int block = 512;
        long perOuter = (inner + block - 1) / block;
        Parallel.forRange((int) (outer * perOuter), 1, (a, b) -> {
            for (int task = a; task < b; task++) {
                long o = task / perOuter, c0 = (task % perOuter) * block, c1 = Math.min(inner, c0 + block);
                for (long j = 0; j < m; j++) {
                    long row = checked("indexAdd", is, io + j, n);
                    long d0 = dO + (o * n + row) * inner, s0 = so + (o * m + j) * inner;
                    for (long c = c0; c < c1; c++) Access.set(ds, t, d0 + c, Access.get(ds, t, d0 + c) + Access.get(ss, t, s0 + c));
                }
            }
        });
    }

    /** Walks index's shape; element position p of index maps to src/dst with index value along dim. */
    static void gather(Tensor src, int dim, Tensor index, Tensor out) {
        MemorySegment ss = Access.seg(src), is = Access.seg(index), os = Access.seg(out);
        int[] shape = index.shape();
        long[] sst = src.stride();
        long n = src.shape()[dim];
        DType t = src.dtype();
        long total = index.numel();
        int[] pos = new int[shape.length];
        for (long p = 0; p < total; p++) {
            long off = src.storageOffset();
            for (int d = 0; d < shape.length; d++) if (d != dim) off += pos[d] * sst[d];
            long v = checked("gather", is, index.storageOffset() + p, n);
            Access.set(os, t, out.storageOffset() + p, Access.get(ss, t, off + v * sst[dim]));
            increment(pos, shape);
        }
    }

    static void scatterAdd(Tensor dst, int dim, Tensor index, Tensor src) {
        MemorySegment ds = Access.seg(dst), is = Access.seg(index), ss = Access.seg(src);
        int[] shape = index.shape();
        long[] dst_st = dst.stride();
        long n = dst.shape()[dim];
        DType t = dst.dtype();
        long total = index.numel();
        int[] pos = new int[shape.length];
        for (long p = 0; p < total; p++) {
            long off = dst.storageOffset();
            for (int d = 0; d < shape.length; d++) if (d != dim) off += pos[d] * dst_st[d];
            long v = checked("scatterAdd", is, index.storageOffset() + p, n);
            long at = off + v * dst_st[dim];
            Access.set(ds, t, at, Access.get(ds, t, at) + Access.get(ss, t, src.storageOffset() + p));
            increment(pos, shape);
        }
    }

    private static void increment(int[] pos, int[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++pos[d] < shape[d]) return;
            pos[d] = 0;
        }
    }
}
