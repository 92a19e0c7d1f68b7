// Softmax and log-softmax over the last dim, forward and backward. One block per row (grid-stride over rows).
// x, y, gy, gx [rows, d]. A row of -inf only (every key masked) gives zeros (log: -inf), never NaN.
// Sums accumulate in double; exp runs in the compute type (float for F32/BF16/F16).
#include "common.cuh"

template <int DT>
__device__ __forceinline__ void softmax_forward(const void* xp, void* yp, i64 rows, i64 d, int log) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    const S* x = (const S*)xp;
    S* y = (S*)yp;
    __shared__ double sd[32];
    __shared__ C sc[32];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 base = r * d;
        C mx = -m_inf<C>();
        for (i64 k = threadIdx.x; k < d; k += blockDim.x) {
            C v = Ty<DT>::ld(x, base + k);
            mx = v > mx ? v : mx;
        }
        mx = block_max<C>(mx, sc);
        if (mx == -m_inf<C>()) {
            for (i64 k = threadIdx.x; k < d; k += blockDim.x) Ty<DT>::st(y, base + k, log ? -m_inf<C>() : C(0));
            continue;
        }
        double sum = 0;
        for (i64 k = threadIdx.x; k < d; k += blockDim.x) sum += (double)m_exp(Ty<DT>::ld(x, base + k) - mx);
        sum = block_sum(sum, sd);
        if (log) {
            C shift = (C)((double)mx + ::log(sum));
            for (i64 k = threadIdx.x; k < d; k += blockDim.x) Ty<DT>::st(y, base + k, Ty<DT>::ld(x, base + k) - shift);
        } else {
            C inv = (C)(1.0 / sum);
            for (i64 k = threadIdx.x; k < d; k += blockDim.x) Ty<DT>::st(y, base + k, m_exp(Ty<DT>::ld(x, base + k) - mx) * inv);
        }
    }
}

// gx = y * (gy - sum(gy * y)); log: gx = gy - exp(y) * sum(gy) (exp(-inf) = 0 for fully masked rows).
template <int DT>
__device__ __forceinline__ void softmax_backward(const void* yp, const void* gyp, void* gxp, i64 rows, i64 d, int log) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    const S* y = (const S*)yp;
    const S* gy = (const S*)gyp;
    S* gx = (S*)gxp;
    __shared__ double sd[32];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 base = r * d;
        double dot = 0;
        for (i64 k = threadIdx.x; k < d; k += blockDim.x) {
            C g = Ty<DT>::ld(gy, base + k);
            dot += log ? (double)g : (double)g * (double)Ty<DT>::ld(y, base + k);
        }
        C s = (C)block_sum(dot, sd);
        for (i64 k = threadIdx.x; k < d; k += blockDim.x) {
            C yv = Ty<DT>::ld(y, base + k), g = Ty<DT>::ld(gy, base + k);
            Ty<DT>::st(gx, base + k, log ? g - m_exp(yv) * s : yv * (g - s));
        }
    }
}

// Softmax over the last dim of float scores x [B*H*Lq, Lk] where a BOOL mask (broadcast over (B, H, Lq, Lk) by its
// element strides sb, sh, si, sj; 0 where a dim is broadcast) says true: such entries count as -inf (attention masks
// applied inside the softmax instead of a separate masked fill). A row with every entry masked gives zeros.
extern "C" __global__ void softmax_masked_forward_f32(const float* x, const u8* mask, i64 sb, i64 sh, i64 si, i64 sj,
                                                      i64 heads, i64 lq, float* y, i64 rows, i64 d) {
    __shared__ double sd[32];
    __shared__ float sc[32];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 base = r * d, i = r % lq, bh = r / lq, h = bh % heads, b = bh / heads;
        const u8* m = mask + b * sb + h * sh + i * si;
        float mx = -F_INF;
        for (i64 k = threadIdx.x; k < d; k += blockDim.x) {
            float v = m[k * sj] ? -F_INF : x[base + k];
            mx = v > mx ? v : mx;
        }
        mx = block_max<float>(mx, sc);
        if (mx == -F_INF) {
            for (i64 k = threadIdx.x; k < d; k += blockDim.x) y[base + k] = 0.0f;
            continue;
        }
        double sum = 0;
        for (i64 k = threadIdx.x; k < d; k += blockDim.x) sum += m[k * sj] ? 0.0 : (double)m_exp(x[base + k] - mx);
        sum = block_sum(sum, sd);
        float inv = (float)(1.0 / sum);
        for (i64 k = threadIdx.x; k < d; k += blockDim.x) y[base + k] = m[k * sj] ? 0.0f : m_exp(x[base + k] - mx) * inv;
    }
}

#define SOFTMAX_KERNELS(name, DT) \
    extern "C" __global__ void softmax_forward_##name(const void* x, void* y, i64 rows, i64 d, int log) { softmax_forward<DT>(x, y, rows, d, log); } \
    extern "C" __global__ void softmax_backward_##name(const void* y, const void* gy, void* gx, i64 rows, i64 d, int log) { softmax_backward<DT>(y, gy, gx, rows, d, log); }
SOFTMAX_KERNELS(f32, DT_F32)
SOFTMAX_KERNELS(f64, DT_F64)
SOFTMAX_KERNELS(bf16, DT_BF16)
SOFTMAX_KERNELS(f16, DT_F16)

// Cross-entropy of logits x [rows, C] (fp32 or bf16, contiguous) at class targets t [rows] (int64), without a
// log-softmax tensor: per row lse = log sum_j exp(x_j) and loss = (1 - eps)(lse - x_t) + eps (lse - mean_j x_j) (label
// smoothing eps), 0 where t = ignore. A target outside [0, C) (and not ignore) is reported through err (op 5) and
// gives loss 0. The backward reads x again: gx_j = g (exp(x_j - lse) - (1 - eps) [j = t] - eps / C), 0 where ignored.
template <int DT>
__device__ __forceinline__ void cross_entropy_forward(const void* xp, const i64* t, i64 ignore, float eps, float* loss, float* lse,
                                                      i64 rows, i64 C, i64* err) {
    typedef typename Ty<DT>::S S;
    const S* x = (const S*)xp;
    __shared__ double sd[32];
    __shared__ float sc[32];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 base = r * C, tr = t[r];
        bool bad = tr != ignore && (tr < 0 || tr >= C);
        if (bad && threadIdx.x == 0) report_index_error(err, 5, tr, C);
        float mx = -F_INF;
        for (i64 k = threadIdx.x; k < C; k += blockDim.x) mx = fmaxf(mx, Ty<DT>::ld(x, base + k));
        mx = block_max<float>(mx, sc);
        double sum = 0, sumx = 0;
        for (i64 k = threadIdx.x; k < C; k += blockDim.x) {
            float v = Ty<DT>::ld(x, base + k);
            sum += (double)m_exp(v - mx);
            sumx += (double)v;
        }
        sum = block_sum(sum, sd);
        if (eps != 0.0f) sumx = block_sum(sumx, sd);
        if (threadIdx.x == 0) {
            double l = (double)mx + ::log(sum);
            lse[r] = (float)l;
            loss[r] = tr == ignore || bad ? 0.0f
                    : (float)((1.0 - eps) * (l - (double)Ty<DT>::ld(x, base + tr)) + (eps != 0.0f ? eps * (l - sumx / (double)C) : 0.0));
        }
    }
}

template <int DT>
__device__ __forceinline__ void cross_entropy_backward(const void* xp, const i64* t, i64 ignore, float eps, const float* lse,
                                                       const float* g, void* gxp, i64 rows, i64 C) {
    typedef typename Ty<DT>::S S;
    const S* x = (const S*)xp;
    S* gx = (S*)gxp;
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 base = r * C, tr = t[r];
        bool off = tr == ignore || tr < 0 || tr >= C;
        float gr = off ? 0.0f : g[r], l = lse[r], u = eps / (float)C, hit = 1.0f - eps;
        for (i64 k = threadIdx.x; k < C; k += blockDim.x) {
            float p = m_exp(Ty<DT>::ld(x, base + k) - l);
            Ty<DT>::st(gx, base + k, gr * (p - (k == tr ? hit : 0.0f) - u));
        }
    }
}

#define CROSS_ENTROPY_KERNELS(name, DT) \
    extern "C" __global__ void cross_entropy_forward_##name(const void* x, const i64* t, i64 ignore, float eps, float* loss, \
            float* lse, i64 rows, i64 C, i64* err) { cross_entropy_forward<DT>(x, t, ignore, eps, loss, lse, rows, C, err); } \
    extern "C" __global__ void cross_entropy_backward_##name(const void* x, const i64* t, i64 ignore, float eps, const float* lse, \
            const float* g, void* gx, i64 rows, i64 C) { cross_entropy_backward<DT>(x, t, ignore, eps, lse, g, gx, rows, C); }
CROSS_ENTROPY_KERNELS(f32, DT_F32)
CROSS_ENTROPY_KERNELS(bf16, DT_BF16)
