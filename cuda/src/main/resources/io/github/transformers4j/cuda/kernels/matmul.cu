// A plain batched matrix product for what cuBLASLt does not take: out[b] (+)= a[b] @ b[b].
// a [B, M, K] and b [B, K, N] strided (batch stride may be 0), out [B, M, N] contiguous. Thread per output,
// 16x16 tiles through shared memory; accumulates in the compute type (double for F64).
// The backward of matmul is two more products (tensor/Linalg.java).
#include "common.cuh"

#define TILE 16

template <int DT>
__device__ __forceinline__ void matmul_tiled(const void* ap, const void* bp, void* op, int M, int N, int K,
                                             i64 sab, i64 sam, i64 sak, i64 sbb, i64 sbk, i64 sbn, int accumulate) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    __shared__ C ta[TILE][TILE + 1];
    __shared__ C tb[TILE][TILE + 1];
    const S* a = (const S*)ap + blockIdx.z * sab;
    const S* b = (const S*)bp + blockIdx.z * sbb;
    S* out = (S*)op + (i64)blockIdx.z * M * N;
    int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
    C acc = 0;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        int ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
        ta[threadIdx.y][threadIdx.x] = row < M && ka < K ? Ty<DT>::ld(a, row * sam + ka * sak) : C(0);
        tb[threadIdx.y][threadIdx.x] = kb < K && col < N ? Ty<DT>::ld(b, kb * sbk + col * sbn) : C(0);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; k++) acc += ta[threadIdx.y][k] * tb[k][threadIdx.x];
        __syncthreads();
    }
    if (row < M && col < N) {
        i64 at = (i64)row * N + col;
        Ty<DT>::st(out, at, accumulate ? Ty<DT>::ld(out, at) + acc : acc);
    }
}

#define MATMUL_KERNEL(name, DT) \
    extern "C" __global__ void matmul_##name(const void* a, const void* b, void* out, int M, int N, int K, i64 sab, i64 sam, i64 sak, i64 sbb, i64 sbk, i64 sbn, int accumulate) { matmul_tiled<DT>(a, b, out, M, N, K, sab, sam, sak, sbb, sbk, sbn, accumulate); }
MATMUL_KERNEL(f32, DT_F32)
MATMUL_KERNEL(f64, DT_F64)
MATMUL_KERNEL(bf16, DT_BF16)
MATMUL_KERNEL(f16, DT_F16)
