// Layer norm over the last dim, forward and backward (llm.c's layernorm_forward / layernorm_backward split in
// kernels). x, y, gy, gx [rows, D]; mean, rstd [rows] (in x's dtype); w, b, gw, gb [D] (w, b may be null).
// One warp per row for rows of at most 1024 (the *_warp kernels: warp shuffles, no __syncthreads, the row held in
// registers), else one block per row, for the row-wise parts; gw/gb are column sums over rows done in chunks of rows whose partials are combined in
// chunk order (deterministic, no atomics). Statistics accumulate in double.
#include "common.cuh"

// The threads that own a row: a warp (WARP) or the whole block; rows first, first + step, ...
template <bool WARP>
struct RowGroup {
    i64 first, step;
    int lane, size;
    __device__ __forceinline__ RowGroup() {
        if (WARP) {
            first = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
            step = ((i64)gridDim.x * blockDim.x) >> 5;
            lane = threadIdx.x & 31;
            size = 32;
        } else {
            first = blockIdx.x;
            step = gridDim.x;
            lane = threadIdx.x;
            size = blockDim.x;
        }
    }
    __device__ __forceinline__ double sum(double v, double* shared) const { return WARP ? warp_sum(v) : block_sum(v, shared); }
};

// Row r's statistics, written by the row's first thread, in x's dtype.
template <int DT>
__device__ __forceinline__ void store_stats(void* meanp, void* rstdp, i64 r, double mu, double rs, int lane) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    if (lane != 0) return;
    Ty<DT>::st((S*)meanp, r, (C)mu);
    Ty<DT>::st((S*)rstdp, r, (C)rs);
}

// y[k] = (x - mean) * rstd * w[k] + b[k] (w, b may be null).
template <int DT>
__device__ __forceinline__ typename Ty<DT>::C normalized(typename Ty<DT>::C x, typename Ty<DT>::C mu, typename Ty<DT>::C rs,
                                                         const typename Ty<DT>::S* w, const typename Ty<DT>::S* b, i64 k) {
    typename Ty<DT>::C v = (x - mu) * rs;
    if (w) v *= Ty<DT>::ld(w, k);
    if (b) v += Ty<DT>::ld(b, k);
    return v;
}

// g = gy * w[k] (w null: gy) of the backward.
template <int DT>
__device__ __forceinline__ typename Ty<DT>::C weighted(typename Ty<DT>::C gy, const typename Ty<DT>::S* w, i64 k) {
    return gy * (w ? Ty<DT>::ld(w, k) : typename Ty<DT>::C(1));
}

// y = (x - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps) with the biased variance (two passes over the row).
template <int DT>
__device__ __forceinline__ void layernorm_forward(const void* xp, const void* wp, const void* bp, double eps, void* yp,
                                                  void* meanp, void* rstdp, i64 rows, i64 D) {
    const RowGroup<false> g;
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    const S* x = (const S*)xp;
    const S* w = (const S*)wp;
    const S* b = (const S*)bp;
    S* y = (S*)yp;
    __shared__ double sd[32];
    for (i64 r = g.first; r < rows; r += g.step) {
        i64 base = r * D;
        double sum = 0;
        for (i64 k = g.lane; k < D; k += g.size) sum += (double)Ty<DT>::ld(x, base + k);
        double mu = g.sum(sum, sd) / (double)D;
        double sq = 0;
        for (i64 k = g.lane; k < D; k += g.size) {
            double c = (double)Ty<DT>::ld(x, base + k) - mu;
            sq += c * c;
        }
        double rs = 1.0 / ::sqrt(g.sum(sq, sd) / (double)D + eps);
        store_stats<DT>(meanp, rstdp, r, mu, rs, g.lane);
        C muc = (C)mu, rsc = (C)rs;
        for (i64 k = g.lane; k < D; k += g.size) Ty<DT>::st(y, base + k, normalized<DT>(Ty<DT>::ld(x, base + k), muc, rsc, w, b, k));
    }
}

// The warp kernels keep a row in registers, N elements per lane (D <= 32 N: *_warp8 to 256, *_warp16 to 512, *_warp
// to 1024): each input is read once, not once per pass over the row (the same operations in the same order as the
// block kernels, so the same bits).
template <int DT, int N>
__device__ __forceinline__ void layernorm_forward_warp(const void* xp, const void* wp, const void* bp, double eps, void* yp,
                                                       void* meanp, void* rstdp, i64 rows, i64 D) {
    const RowGroup<true> g;
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    const S* x = (const S*)xp;
    const S* w = (const S*)wp;
    const S* b = (const S*)bp;
    S* y = (S*)yp;
    for (i64 r = g.first; r < rows; r += g.step) {
        const i64 base = r * D;
        C xv[N];
#pragma unroll
        for (int u = 0; u < N; u++) {
            i64 k = g.lane + 32 * u;
            if (k < D) xv[u] = Ty<DT>::ld(x, base + k);
        }
        double sum = 0;
#pragma unroll
        for (int u = 0; u < N; u++) {
            if (g.lane + 32 * u < D) sum += (double)xv[u];
        }
        double mu = warp_sum(sum) / (double)D;
        double sq = 0;
#pragma unroll
        for (int u = 0; u < N; u++) {
            if (g.lane + 32 * u < D) {
                double c = (double)xv[u] - mu;
                sq += c * c;
            }
        }
        double rs = 1.0 / ::sqrt(warp_sum(sq) / (double)D + eps);
        store_stats<DT>(meanp, rstdp, r, mu, rs, g.lane);
        C muc = (C)mu, rsc = (C)rs;
#pragma unroll
        for (int u = 0; u < N; u++) {
            i64 k = g.lane + 32 * u;
            if (k < D) Ty<DT>::st(y, base + k, normalized<DT>(xv[u], muc, rsc, w, b, k));
        }
    }
}

template <int DT, int N>
__device__ __forceinline__ void layernorm_backward_warp(const void* gyp, const void* xp, const void* wp, const void* meanp,
                                                        const void* rstdp, void* gxp, i64 rows, i64 D) {
    const RowGroup<true> grp;
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    const S* gy = (const S*)gyp;
    const S* x = (const S*)xp;
    const S* w = (const S*)wp;
    S* gx = (S*)gxp;
    for (i64 r = grp.first; r < rows; r += grp.step) {
        const i64 base = r * D;
        C mu = Ty<DT>::ld((const S*)meanp, r), rs = Ty<DT>::ld((const S*)rstdp, r);
        C gv[N], xh[N];  // g = gy * w and xhat
#pragma unroll
        for (int u = 0; u < N; u++) {
            i64 k = grp.lane + 32 * u;
            if (k < D) {
                gv[u] = Ty<DT>::ld(gy, base + k);
                xh[u] = Ty<DT>::ld(x, base + k);
            }
        }
        double s1 = 0, s2 = 0;
#pragma unroll
        for (int u = 0; u < N; u++) {
            i64 k = grp.lane + 32 * u;
            if (k >= D) continue;
            gv[u] = weighted<DT>(gv[u], w, k);
            xh[u] = (xh[u] - mu) * rs;
            s1 += (double)gv[u];
            s2 += (double)gv[u] * (double)xh[u];
        }
        C m1 = (C)(warp_sum(s1) / (double)D);
        C m2 = (C)(warp_sum(s2) / (double)D);
#pragma unroll
        for (int u = 0; u < N; u++) {
            i64 k = grp.lane + 32 * u;
            if (k < D) Ty<DT>::st(gx, base + k, rs * (gv[u] - m1 - xh[u] * m2));
        }
    }
}

// gx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = gy * w, xhat = (x - mean) * rstd.
template <int DT>
__device__ __forceinline__ void layernorm_backward(const void* gyp, const void* xp, const void* wp, const void* meanp,
                                                   const void* rstdp, void* gxp, i64 rows, i64 D) {
    const RowGroup<false> grp;
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    const S* gy = (const S*)gyp;
    const S* x = (const S*)xp;
    const S* w = (const S*)wp;
    S* gx = (S*)gxp;
    __shared__ double sd[32];
    for (i64 r = grp.first; r < rows; r += grp.step) {
        i64 base = r * D;
        C mu = Ty<DT>::ld((const S*)meanp, r), rs = Ty<DT>::ld((const S*)rstdp, r);
        double s1 = 0, s2 = 0;
        for (i64 k = grp.lane; k < D; k += grp.size) {
            C g = weighted<DT>(Ty<DT>::ld(gy, base + k), w, k);
            C xh = (Ty<DT>::ld(x, base + k) - mu) * rs;
            s1 += (double)g;
            s2 += (double)g * (double)xh;
        }
        C m1 = (C)(grp.sum(s1, sd) / (double)D);
        C m2 = (C)(grp.sum(s2, sd) / (double)D);
        for (i64 k = grp.lane; k < D; k += grp.size) {
            C g = weighted<DT>(Ty<DT>::ld(gy, base + k), w, k);
            C xh = (Ty<DT>::ld(x, base + k) - mu) * rs;
            Ty<DT>::st(gx, base + k, rs * (g - m1 - xh * m2));
        }
    }
}

// Partial column sums over a chunk of rows: thread per (column k, chunk s) with rows [s * chunk, (s+1) * chunk).
// partial [chunks, 2, D] doubles: [s][0][k] = sum gy * xhat (for gw), [s][1][k] = sum gy (for gb).
template <int DT>
__device__ __forceinline__ void layernorm_backward_wb(const void* gyp, const void* xp, const void* meanp, const void* rstdp,
                                                      double* partial, i64 rows, i64 D, i64 chunk, i64 chunks) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    const S* gy = (const S*)gyp;
    const S* x = (const S*)xp;
    FOR_EACH(t, D * chunks) {
        i64 k = t % D, s = t / D;
        i64 r0 = s * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
        double aw = 0, ab = 0;
        for (i64 r = r0; r < r1; r++) {
            C mu = Ty<DT>::ld((const S*)meanp, r), rs = Ty<DT>::ld((const S*)rstdp, r);
            C g = Ty<DT>::ld(gy, r * D + k);
            ab += (double)g;
            aw += (double)g * (double)((Ty<DT>::ld(x, r * D + k) - mu) * rs);
        }
        partial[(s * 2) * D + k] = aw;
        partial[(s * 2 + 1) * D + k] = ab;
    }
}

// gw[k] = sum over chunks of partial[s][0][k]; gb likewise from [s][1][k]. Either may be null. One block per column:
// thread t adds chunks t, t + blockDim, ... in order, then a block sum (a fixed order: deterministic). A thread per
// column adding thousands of chunks one after another was latency-bound (the larger part of the backward's time).
template <int DT>
__device__ __forceinline__ void layernorm_backward_wb_finish(const double* partial, i64 D, i64 chunks, void* gw, void* gb) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    __shared__ double sd[32];
    for (i64 k = blockIdx.x; k < D; k += gridDim.x) {
        double aw = 0, ab = 0;
        for (i64 s = threadIdx.x; s < chunks; s += blockDim.x) {
            aw += partial[(s * 2) * D + k];
            ab += partial[(s * 2 + 1) * D + k];
        }
        aw = block_sum(aw, sd);
        ab = block_sum(ab, sd);
        if (threadIdx.x == 0) {
            if (gw) Ty<DT>::st((S*)gw, k, (C)aw);
            if (gb) Ty<DT>::st((S*)gb, k, (C)ab);
        }
    }
}

#define LAYERNORM_KERNELS(name, DT) \
    extern "C" __global__ void layernorm_forward_##name(const void* x, const void* w, const void* b, double eps, void* y, void* mean, void* rstd, i64 rows, i64 D) { layernorm_forward<DT>(x, w, b, eps, y, mean, rstd, rows, D); } \
    extern "C" __global__ void layernorm_forward_warp8_##name(const void* x, const void* w, const void* b, double eps, void* y, void* mean, void* rstd, i64 rows, i64 D) { layernorm_forward_warp<DT, 8>(x, w, b, eps, y, mean, rstd, rows, D); } \
    extern "C" __global__ void layernorm_forward_warp16_##name(const void* x, const void* w, const void* b, double eps, void* y, void* mean, void* rstd, i64 rows, i64 D) { layernorm_forward_warp<DT, 16>(x, w, b, eps, y, mean, rstd, rows, D); } \
    extern "C" __global__ void layernorm_forward_warp_##name(const void* x, const void* w, const void* b, double eps, void* y, void* mean, void* rstd, i64 rows, i64 D) { layernorm_forward_warp<DT, 32>(x, w, b, eps, y, mean, rstd, rows, D); } \
    extern "C" __global__ void layernorm_backward_##name(const void* gy, const void* x, const void* w, const void* mean, const void* rstd, void* gx, i64 rows, i64 D) { layernorm_backward<DT>(gy, x, w, mean, rstd, gx, rows, D); } \
    extern "C" __global__ void layernorm_backward_warp8_##name(const void* gy, const void* x, const void* w, const void* mean, const void* rstd, void* gx, i64 rows, i64 D) { layernorm_backward_warp<DT, 8>(gy, x, w, mean, rstd, gx, rows, D); } \
    extern "C" __global__ void layernorm_backward_warp16_##name(const void* gy, const void* x, const void* w, const void* mean, const void* rstd, void* gx, i64 rows, i64 D) { layernorm_backward_warp<DT, 16>(gy, x, w, mean, rstd, gx, rows, D); } \
    extern "C" __global__ void layernorm_backward_warp_##name(const void* gy, const void* x, const void* w, const void* mean, const void* rstd, void* gx, i64 rows, i64 D) { layernorm_backward_warp<DT, 32>(gy, x, w, mean, rstd, gx, rows, D); } \
    extern "C" __global__ void layernorm_backward_wb_##name(const void* gy, const void* x, const void* mean, const void* rstd, double* partial, i64 rows, i64 D, i64 chunk, i64 chunks) { layernorm_backward_wb<DT>(gy, x, mean, rstd, partial, rows, D, chunk, chunks); } \
    extern "C" __global__ void layernorm_backward_wb_finish_##name(const double* partial, i64 D, i64 chunks, void* gw, void* gb) { layernorm_backward_wb_finish<DT>(partial, D, chunks, gw, gb); }
LAYERNORM_KERNELS(f32, DT_F32)
LAYERNORM_KERNELS(f64, DT_F64)
LAYERNORM_KERNELS(bf16, DT_BF16)
LAYERNORM_KERNELS(f16, DT_F16)
