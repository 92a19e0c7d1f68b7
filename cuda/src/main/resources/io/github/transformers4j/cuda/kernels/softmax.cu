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

#define SOFTMAX_KERNELS(name, DT) \
    extern "C" __global__ void softmax_forward_##name(const void* x, void* y, i64 rows, i64 d, int log) { softmax_forward<DT>(x, y, rows, d, log); } \
    extern "C" __global__ void softmax_backward_##name(const void* y, const void* gy, void* gx, i64 rows, i64 d, int log) { softmax_backward<DT>(y, gy, gx, rows, d, log); }
SOFTMAX_KERNELS(f32, DT_F32)
SOFTMAX_KERNELS(f64, DT_F64)
SOFTMAX_KERNELS(bf16, DT_BF16)
SOFTMAX_KERNELS(f16, DT_F16)
