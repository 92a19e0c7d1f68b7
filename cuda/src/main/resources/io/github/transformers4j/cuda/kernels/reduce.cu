// Reductions of x viewed as [outer, n, inner] over n: values [outer, inner] and, for MAX/MIN/ARGMAX/ARGMIN, the
// int64 position of the first extreme (NaN wins, as on the CPU). Sums accumulate in double.
// Two layouts:
//   inner == 1: one block per row, a block reduction (reduce_rows)
//   inner  > 1: thread per (column, chunk of n), coalesced across inner; with several chunks the partials
//               [chunks, outer * inner] are combined in chunk order by reduce_cols_finish (deterministic)
// No backward kernels: sum's gradient is an expand, max/min's a scatterAdd (tensor/Reductions.java).
#include "common.cuh"

// = io.github.transformers4j.tensor.ReduceOp ordinals (checked by a test against the Java enum)
// enum ReduceOp { SUM, MAX, MIN, ARGMAX, ARGMIN }
enum { R_SUM, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN };

// Running extreme: replaces (best, bestK) by (v, k) when v is NaN or strictly better; k increases along a walk.
__device__ __forceinline__ void extreme_step(bool isMax, double v, i64 k, double& best, i64& bestK) {
    if (best != best) return;  // a NaN was found first: it stays
    if (v != v || (isMax ? v > best : v < best) || bestK < 0) {
        best = v;
        bestK = k;
    }
}

// Combines two candidates from disjoint parts: NaN first, then the better value, ties to the smaller position.
__device__ __forceinline__ void extreme_merge(bool isMax, double v, i64 k, double& best, i64& bestK) {
    if (k < 0) return;
    if (bestK < 0) { best = v; bestK = k; return; }
    bool vn = v != v, bn = best != best;
    bool take;
    if (vn || bn) take = vn && (!bn || k < bestK);
    else if (v == best) take = k < bestK;
    else take = isMax ? v > best : v < best;
    if (take) { best = v; bestK = k; }
}

__device__ __forceinline__ void write_result(int op, void* values, int vdt, i64* indices, i64 at, double v, i64 k) {
    if (values) store_d(values, vdt, at, v);
    if (indices && op != R_SUM) indices[at] = k;
}

// x [outer, n] (inner == 1); one block per row (grid-stride over rows). shared: 32 doubles + 32 longs.
extern "C" __global__ void reduce_rows(int op, const void* x, int xdt, i64 outer, i64 n, void* values, int vdt, i64* indices) {
    __shared__ double sv[32];
    __shared__ i64 sk[32];
    bool isMax = op == R_MAX || op == R_ARGMAX;
    for (i64 row = blockIdx.x; row < outer; row += gridDim.x) {
        i64 base = row * n;
        if (op == R_SUM) {
            double acc = 0;
            for (i64 k = threadIdx.x; k < n; k += blockDim.x) acc += load_d(x, xdt, base + k);
            acc = block_sum(acc, sv);
            if (threadIdx.x == 0) write_result(op, values, vdt, indices, row, acc, 0);
            continue;
        }
        double best = 0;
        i64 bestK = -1;
        for (i64 k = threadIdx.x; k < n; k += blockDim.x) extreme_step(isMax, load_d(x, xdt, base + k), k, best, bestK);
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            double ov = __shfl_xor_sync(0xffffffffu, best, o);
            i64 ok = __shfl_xor_sync(0xffffffffu, bestK, o);
            extreme_merge(isMax, ov, ok, best, bestK);
        }
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
        if (lane == 0) { sv[warp] = best; sk[warp] = bestK; }
        __syncthreads();
        if (threadIdx.x == 0) {
            for (int w = 1; w < (int)(blockDim.x >> 5); w++) extreme_merge(isMax, sv[w], sk[w], best, bestK);
            write_result(op, values, vdt, indices, row, best, bestK);
        }
        __syncthreads();
    }
}

// x [outer, n, inner]; thread per (column c = o * inner + j, chunk s): k in [s * chunk, min(n, (s + 1) * chunk)).
// chunks == 1: writes values/indices directly; else partial sums/extremes into pv/pk [chunks, outer * inner].
extern "C" __global__ void reduce_cols(int op, const void* x, int xdt, i64 outer, i64 n, i64 inner, i64 chunk,
                                       i64 chunks, void* values, int vdt, i64* indices, double* pv, i64* pk) {
    i64 columns = outer * inner;
    bool isMax = op == R_MAX || op == R_ARGMAX;
    FOR_EACH(t, columns * chunks) {
        i64 c = t % columns, s = t / columns;
        i64 o = c / inner, j = c - o * inner;
        i64 k0 = s * chunk, k1 = k0 + chunk < n ? k0 + chunk : n;
        const i64 base = o * n * inner + j;
        double acc = 0;
        i64 bestK = -1;
        if (op == R_SUM) {
            for (i64 k = k0; k < k1; k++) acc += load_d(x, xdt, base + k * inner);
        } else {
            for (i64 k = k0; k < k1; k++) extreme_step(isMax, load_d(x, xdt, base + k * inner), k, acc, bestK);
        }
        if (chunks == 1) write_result(op, values, vdt, indices, c, acc, bestK);
        else {
            pv[s * columns + c] = acc;
            pk[s * columns + c] = bestK;
        }
    }
}

// Combines the partials of reduce_cols in chunk order: pv/pk [chunks, columns] -> values/indices [columns].
extern "C" __global__ void reduce_cols_finish(int op, i64 columns, i64 chunks, const double* pv, const i64* pk,
                                              void* values, int vdt, i64* indices) {
    bool isMax = op == R_MAX || op == R_ARGMAX;
    FOR_EACH(c, columns) {
        double acc = op == R_SUM ? 0.0 : pv[c];
        i64 bestK = op == R_SUM ? 0 : pk[c];
        for (i64 s = op == R_SUM ? 0 : 1; s < chunks; s++) {
            if (op == R_SUM) acc += pv[s * columns + c];
            else extreme_merge(isMax, pv[s * columns + c], pk[s * columns + c], acc, bestK);
        }
        write_result(op, values, vdt, indices, c, acc, bestK);
    }
}
