// index_select / index_add (forward and backward of each other, and of embedding) and gather / scatter_add (likewise).
// Indices are int64 in [0, n) (negative ones are rejected, as PyTorch's index kernels do); one out of range is
// reported through err
// (raised by the host at its next synchronization) and the element is skipped.
// index_add and scatter_add use atomics for F32/F64 (the order of additions varies from run to run: results may
// differ in the last bits); other dtypes take a serial path per column, in index order.
#include "common.cuh"

enum { OP_INDEX_SELECT = 1, OP_INDEX_ADD = 2, OP_GATHER = 3, OP_SCATTER_ADD = 4 };

__device__ __forceinline__ bool check_index(i64 v, i64 n, i64* err, int op) {
    if (v < 0 || v >= n) {
        report_index_error(err, op, v, n);
        return false;
    }
    return true;
}

// src [outer, n, inner], index [m] -> out [outer, m, inner]; element size esize bytes.
extern "C" __global__ void index_select(const void* src, i64 outer, i64 n, i64 inner, const i64* index, i64 m,
                                        void* out, int esize, i64* err) {
    FOR_EACH(e, outer * m * inner) {
        i64 i = e % inner, j = (e / inner) % m, o = e / (inner * m);
        i64 row = index[j];
        if (!check_index(row, n, err, OP_INDEX_SELECT)) continue;
        copy_elem(out, e, src, (o * n + row) * inner + i, esize);
    }
}

// dst [outer, n, inner] += src [outer, m, inner] at rows index [m]. F32/F64 with atomics.
extern "C" __global__ void index_add_atomic(void* dst, int dt, i64 outer, i64 n, i64 inner, const i64* index, i64 m,
                                            const void* src, i64* err) {
    FOR_EACH(e, outer * m * inner) {
        i64 i = e % inner, j = (e / inner) % m, o = e / (inner * m);
        i64 row = index[j];
        if (!check_index(row, n, err, OP_INDEX_ADD)) continue;
        i64 at = (o * n + row) * inner + i;
        if (dt == DT_F32) atomicAdd((float*)dst + at, ((const float*)src)[e]);
        else atomicAdd((double*)dst + at, ((const double*)src)[e]);
    }
}

// Same, any dtype: thread per column (o, i), indices in order (deterministic).
extern "C" __global__ void index_add_serial(void* dst, int dt, i64 outer, i64 n, i64 inner, const i64* index, i64 m,
                                            const void* src, i64* err) {
    FOR_EACH(c, outer * inner) {
        i64 o = c / inner, i = c - o * inner;
        for (i64 j = 0; j < m; j++) {
            i64 row = index[j];
            if (!check_index(row, n, err, OP_INDEX_ADD)) continue;
            i64 at = (o * n + row) * inner + i;
            store_d(dst, dt, at, load_d(dst, dt, at) + load_d(src, dt, (o * m + j) * inner + i));
        }
    }
}

// L.shape = index's shape, L.stride[0] = the strides of src (gather) or dst (scatter_add); dim = the indexed dim,
// L.shape[MAX_DIMS - 1] unused. Returns the element offset in src/dst of index position p, or -1 when out of range.
__device__ __forceinline__ i64 indexed_offset(const Layout& L, int dim, i64 p, i64 v, i64 size, i64* err, int op) {
    if (!check_index(v, size, err, op)) return -1;
    i64 off = 0;
    for (int d = (int)L.ndim - 1; d >= 0; d--) {
        i64 s = L.shape[d];
        i64 q = p / s, r = p - q * s;
        p = q;
        off += (d == dim ? v : r) * L.stride[0][d];
    }
    return off;
}

// out[p] = src[..index[p]..] along dim; index and out contiguous with index's shape, src strided (L.stride[0]).
// size = src's size along dim.
extern "C" __global__ void gather(Layout L, int dim, const void* src, i64 size, const i64* index, void* out, int esize,
                                  i64 total, i64* err) {
    FOR_EACH(p, total) {
        i64 off = indexed_offset(L, dim, p, index[p], size, err, OP_GATHER);
        if (off >= 0) copy_elem(out, p, src, off, esize);
    }
}

// dst[..index[p]..] += src[p] along dim; index and src contiguous, dst strided (L.stride[0]). F32/F64 atomics.
extern "C" __global__ void scatter_add_atomic(Layout L, int dim, void* dst, int dt, i64 size, const i64* index,
                                              const void* src, i64 total, i64* err) {
    FOR_EACH(p, total) {
        i64 off = indexed_offset(L, dim, p, index[p], size, err, OP_SCATTER_ADD);
        if (off < 0) continue;
        if (dt == DT_F32) atomicAdd((float*)dst + off, ((const float*)src)[p]);
        else atomicAdd((double*)dst + off, ((const double*)src)[p]);
    }
}

// Same, any dtype, one thread in index order (rare: integer or 16-bit scatters).
extern "C" __global__ void scatter_add_serial(Layout L, int dim, void* dst, int dt, i64 size, const i64* index,
                                              const void* src, i64 total, i64* err) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    for (i64 p = 0; p < total; p++) {
        i64 off = indexed_offset(L, dim, p, index[p], size, err, OP_SCATTER_ADD);
        if (off >= 0) store_d(dst, dt, off, load_d(dst, dt, off) + load_d(src, dt, p));
    }
}
