// Shared by the kernel files: KernelCompiler pastes this file in place of the include line of a .cu file
// (NVRTC gets one self-contained source; no system headers are used, so no CUDA include folder is needed).
#pragma once

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

// dtype codes = io.github.transformers4j.tensor.DType ordinals (checked by a test against the Java enum)
// enum DType { F32, F64, BF16, F16, I64, I32, U8, BOOL }
enum { DT_F32, DT_F64, DT_BF16, DT_F16, DT_I64, DT_I32, DT_U8, DT_BOOL };

#define MAX_DIMS 8
#define F_INF __int_as_float(0x7f800000)
#define F_NAN __int_as_float(0x7fc00000)
#define D_INF __longlong_as_double(0x7ff0000000000000LL)
#define D_NAN __longlong_as_double(0x7ff8000000000000LL)

// Grid-stride loop over [0, n): any grid covers any n.
#define FOR_EACH(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

// Elements per thread per round of for_each_unrolled (launchers size its grid for n / UNROLL threads).
#define UNROLL 8

// FOR_EACH in rounds of UNROLL elements per thread (i, i + step, ..., coalesced across the threads): every load of a
// round is issued before its first store. Out may alias an input, so the compiler cannot hoist later loads above
// earlier stores by itself; without this a thread keeps one 2- or 4-byte load in flight, and a memory-bound kernel
// reaches a third of the bandwidth. Full rounds run unguarded; the elements left (fewer than a round) take one more
// round with the elements past n left out (one at a time, the capped grid's threads spent up to 7 memory latencies
// there). With every round guarded, an H100 run measured the bf16 kernels 20-70% slower (session 9). load(i) returns a V,
// store(i, v) finishes element i.
template <typename V, typename Load, typename Store>
__device__ __forceinline__ void for_each_unrolled(i64 n, Load load, Store store) {
    const i64 step = (i64)gridDim.x * blockDim.x;
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + (UNROLL - 1) * step < n; i += UNROLL * step) {
        V v[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) v[u] = load(i + u * step);
#pragma unroll
        for (int u = 0; u < UNROLL; u++) store(i + u * step, v[u]);
    }
    if (i < n) {
        V v[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            if (i + u * step < n) v[u] = load(i + u * step);
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            if (i + u * step < n) store(i + u * step, v[u]);
        }
    }
}

// A strided view of up to MAX_DIMS dims for up to 4 tensors of one shape (dims collapsed on the Java side).
// Every field is 8 bytes, so the Java side passes it as a long[] of 1 + 5 * MAX_DIMS words.
struct Layout {
    i64 ndim;
    i64 shape[MAX_DIMS];
    i64 stride[4][MAX_DIMS];
};

// Element offsets of linear index i (row-major over shape) in the first NT tensors of L.
template <int NT>
__device__ __forceinline__ void offsets(const Layout& L, i64 i, i64* off) {
#pragma unroll
    for (int t = 0; t < NT; t++) off[t] = 0;
    if (L.ndim == 1) {
#pragma unroll
        for (int t = 0; t < NT; t++) off[t] = i * L.stride[t][0];
        return;
    }
    // the dims unrolled with constant indices: a loop indexing L by a variable made every thread copy the whole
    // Layout (328 bytes) from the parameters to its stack first
    if (i < 0x80000000LL) {  // 32-bit division is several times cheaper than 64-bit
        u32 j = (u32)i;
#pragma unroll
        for (int d = MAX_DIMS - 1; d >= 0; d--) {
            if (d >= L.ndim) continue;
            u32 s = (u32)L.shape[d];
            u32 q = j / s, r = j - q * s;
            j = q;
#pragma unroll
            for (int t = 0; t < NT; t++) off[t] += (i64)r * L.stride[t][d];
        }
        return;
    }
#pragma unroll
    for (int d = MAX_DIMS - 1; d >= 0; d--) {
        if (d >= L.ndim) continue;
        i64 s = L.shape[d];
        i64 q = i / s, r = i - q * s;
        i = q;
#pragma unroll
        for (int t = 0; t < NT; t++) off[t] += r * L.stride[t][d];
    }
}

// ---- bf16 / f16 storage: float compute, round to nearest even on store (as the CPU backend)
__device__ __forceinline__ float bf16_to_f32(u16 h) { return __int_as_float(((u32)h) << 16); }
__device__ __forceinline__ u16 f32_to_bf16(float f) {
    u32 b = __float_as_uint(f);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (u16)((b >> 16) | 0x40);
    return (u16)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}
__device__ __forceinline__ float f16_to_f32(u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
__device__ __forceinline__ u16 f32_to_f16(float f) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// ---- generic access by dtype code (the slow path, as the CPU's Access.get/set): values travel as double
__device__ __forceinline__ double load_d(const void* p, int dt, i64 i) {
    switch (dt) {
        case DT_F32: return ((const float*)p)[i];
        case DT_F64: return ((const double*)p)[i];
        case DT_BF16: return bf16_to_f32(((const u16*)p)[i]);
        case DT_F16: return f16_to_f32(((const u16*)p)[i]);
        case DT_I64: return (double)((const i64*)p)[i];
        case DT_I32: return (double)((const int*)p)[i];
        case DT_U8: return (double)((const u8*)p)[i];
        default: return ((const u8*)p)[i] != 0 ? 1.0 : 0.0;
    }
}

// Java's (long) d: NaN -> 0, saturating (PTX float-to-int conversions saturate and map NaN to 0).
__device__ __forceinline__ i64 d2l(double v) { return (i64)v; }

__device__ __forceinline__ void store_d(void* p, int dt, i64 i, double v) {
    switch (dt) {
        case DT_F32: ((float*)p)[i] = (float)v; break;
        case DT_F64: ((double*)p)[i] = v; break;
        case DT_BF16: ((u16*)p)[i] = f32_to_bf16((float)v); break;
        case DT_F16: ((u16*)p)[i] = f32_to_f16((float)v); break;
        case DT_I64: ((i64*)p)[i] = d2l(v); break;
        case DT_I32: ((int*)p)[i] = (int)d2l(v); break;
        case DT_U8: ((u8*)p)[i] = (u8)d2l(v); break;
        default: ((u8*)p)[i] = v != 0.0 ? 1 : 0; break;
    }
}

__device__ __forceinline__ bool is_int_dtype(int dt) { return dt >= DT_I64; }

// Exact 64-bit read of an integer dtype (doubles lose bits above 2^53).
__device__ __forceinline__ i64 load_l(const void* p, int dt, i64 i) {
    switch (dt) {
        case DT_I64: return ((const i64*)p)[i];
        case DT_I32: return ((const int*)p)[i];
        case DT_U8: return ((const u8*)p)[i];
        case DT_BOOL: return ((const u8*)p)[i] != 0;
        default: return d2l(load_d(p, dt, i));
    }
}

// Copies one element of esize bytes (1, 2, 4 or 8).
__device__ __forceinline__ void copy_elem(void* dst, i64 di, const void* src, i64 si, int esize) {
    switch (esize) {
        case 8: ((u64*)dst)[di] = ((const u64*)src)[si]; break;
        case 4: ((u32*)dst)[di] = ((const u32*)src)[si]; break;
        case 2: ((u16*)dst)[di] = ((const u16*)src)[si]; break;
        default: ((u8*)dst)[di] = ((const u8*)src)[si]; break;
    }
}

// ---- typed access for the floating-point kernels: S is the storage type, C the compute type
template <int DT> struct Ty;
template <> struct Ty<DT_F32> {
    typedef float S; typedef float C;
    static __device__ __forceinline__ C ld(const S* p, i64 i) { return p[i]; }
    static __device__ __forceinline__ void st(S* p, i64 i, C v) { p[i] = v; }
};
template <> struct Ty<DT_F64> {
    typedef double S; typedef double C;
    static __device__ __forceinline__ C ld(const S* p, i64 i) { return p[i]; }
    static __device__ __forceinline__ void st(S* p, i64 i, C v) { p[i] = v; }
};
template <> struct Ty<DT_BF16> {
    typedef u16 S; typedef float C;
    static __device__ __forceinline__ C ld(const S* p, i64 i) { return bf16_to_f32(p[i]); }
    static __device__ __forceinline__ void st(S* p, i64 i, C v) { p[i] = f32_to_bf16(v); }
};
template <> struct Ty<DT_F16> {
    typedef u16 S; typedef float C;
    static __device__ __forceinline__ C ld(const S* p, i64 i) { return f16_to_f32(p[i]); }
    static __device__ __forceinline__ void st(S* p, i64 i, C v) { p[i] = f32_to_f16(v); }
};

// ---- 8 consecutive elements at once (the contiguous fast path of the elementwise kernels): group g is elements
// 8g .. 8g + 7 of a 16-byte aligned array, one 16-byte load or store (bf16, f16) or two (f32).
template <int DT> struct Vec8;
template <> struct Vec8<DT_F32> {
    static __device__ __forceinline__ void ld(const void* p, i64 g, float v[8]) {
        float4 a = ((const float4*)p)[2 * g], b = ((const float4*)p)[2 * g + 1];
        v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
    }
    static __device__ __forceinline__ void st(void* p, i64 g, const float v[8]) {
        ((float4*)p)[2 * g] = make_float4(v[0], v[1], v[2], v[3]);
        ((float4*)p)[2 * g + 1] = make_float4(v[4], v[5], v[6], v[7]);
    }
};
template <int DT> struct Vec8Half {  // bf16 or f16: 8 x 16 bits in a uint4, element 2k in the low half of word k
    static __device__ __forceinline__ float up(u16 h) { return DT == DT_BF16 ? bf16_to_f32(h) : f16_to_f32(h); }
    static __device__ __forceinline__ u32 down2(float lo, float hi) {
        return DT == DT_BF16 ? (u32)f32_to_bf16(lo) | ((u32)f32_to_bf16(hi) << 16) : (u32)f32_to_f16(lo) | ((u32)f32_to_f16(hi) << 16);
    }
    static __device__ __forceinline__ void ld(const void* p, i64 g, float v[8]) {
        uint4 r = ((const uint4*)p)[g];
        const u32 w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
        for (int k = 0; k < 4; k++) {
            v[2 * k] = up((u16)w[k]);
            v[2 * k + 1] = up((u16)(w[k] >> 16));
        }
    }
    static __device__ __forceinline__ void st(void* p, i64 g, const float v[8]) {
        ((uint4*)p)[g] = make_uint4(down2(v[0], v[1]), down2(v[2], v[3]), down2(v[4], v[5]), down2(v[6], v[7]));
    }
};
template <> struct Vec8<DT_BF16> : Vec8Half<DT_BF16> {};
template <> struct Vec8<DT_F16> : Vec8Half<DT_F16> {};

// 8 elements of an fp32, bf16 or f16 array chosen at run time (binary_f32_mixed's operands), as float.
__device__ __forceinline__ void ld8_float(const void* p, int dt, i64 g, float v[8]) {
    if (dt == DT_F32) Vec8<DT_F32>::ld(p, g, v);
    else if (dt == DT_BF16) Vec8<DT_BF16>::ld(p, g, v);
    else Vec8<DT_F16>::ld(p, g, v);
}

__device__ __forceinline__ bool aligned16(const void* p) { return ((u64)p & 15) == 0; }

// The contiguous fast path's loop: group(g) for the groups of 8 of [0, n), then elem(i) for the last n % 8 elements.
// A group is one 16-byte load per 16-bit operand: a full SM keeps 32 KB per operand in flight, enough for the
// bandwidth, where 2-byte loads needed for_each_unrolled's 8 per thread.
template <typename Group, typename Elem>
__device__ __forceinline__ void for_each_group8(i64 n, Group group, Elem elem) {
    const i64 step = (i64)gridDim.x * blockDim.x, groups = n >> 3;
    i64 g = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    for (; g < groups; g += step) group(g);
    for (i64 i = 8 * groups + (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) elem(i);
}

// Math in the compute type (explicit overloads: NVRTC has the C functions, not every C++ overload).
__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float m_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double m_tanh(double x) { return tanh(x); }
// Phi(x) = 0.5 erfc(-x / sqrt 2): unlike 0.5 (1 + erf(x / sqrt 2)) it keeps its relative precision in the far negative
// tail (x < -4 in fp32, where 1 + erf cancels to 0 or a few ulps of 1), as the CPU's erf in double does
__device__ __forceinline__ float m_erfc(float x) { return erfcf(x); }
__device__ __forceinline__ double m_erfc(double x) { return erfc(x); }
__device__ __forceinline__ float m_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double m_pow(double x, double y) { return pow(x, y); }
__device__ __forceinline__ float m_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double m_abs(double x) { return fabs(x); }
__device__ __forceinline__ bool m_isnan(float x) { return x != x; }
__device__ __forceinline__ bool m_isnan(double x) { return x != x; }
template <typename C> __device__ __forceinline__ C m_inf();
template <> __device__ __forceinline__ float m_inf<float>() { return F_INF; }
template <> __device__ __forceinline__ double m_inf<double>() { return D_INF; }
template <typename C> __device__ __forceinline__ C m_nan();
template <> __device__ __forceinline__ float m_nan<float>() { return F_NAN; }
template <> __device__ __forceinline__ double m_nan<double>() { return D_NAN; }

// ---- block reductions (blockDim.x a multiple of 32, at most 1024); every thread gets the result
__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ double warp_max(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block; `shared` holds at least 32 doubles. Ends with a barrier so shared can be reused.
__device__ __forceinline__ double block_sum(double v, double* shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    double r = 0;
    for (int w = 0; w < warps; w++) r += shared[w];  // same order in every thread: deterministic
    __syncthreads();
    return r;
}

template <typename C>
__device__ __forceinline__ C block_max(C v, C* shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    C r = shared[0];
    for (int w = 1; w < warps; w++) r = r > shared[w] ? r : shared[w];
    __syncthreads();
    return r;
}

// ---- device-side errors (bad indices): the first one is kept in err[4] and raised by the host at its next sync
// err = { code (0 = none), value, bound, op }
__device__ __forceinline__ void report_index_error(i64* err, i64 op, i64 value, i64 bound) {
    if (atomicCAS((u64*)err, 0ull, 1ull) == 0ull) {
        err[1] = value;
        err[2] = bound;
        err[3] = op;
    }
}
