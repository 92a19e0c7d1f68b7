// Random fills from the counter-based Philox4x32-10 generator, bit for bit as tensor/Random4j.java: number i of a
// draw is word i % 4 of block (offset + i / 4) under key = seed, so CPU and GPU give the same numbers for a seed.
// One thread per block of 4 numbers. Arithmetic uses __dadd_rn/__dmul_rn so that no multiply-add is fused (Java
// rounds every operation); log/cos/sin may differ from Java's in the last bit of a double (not of a float).
#include "common.cuh"
#include "philox.cuh"

// = io.github.transformers4j.tensor.Backend.Distribution ordinals
// enum Distribution { UNIFORM, NORMAL, INT }
enum { D_UNIFORM, D_NORMAL, D_INT };

// Random4j.uniformFloat: 24 random bits in [0, 1)
__device__ __forceinline__ float uniform_float(u32 bits) { return (float)(bits >> 8) * 5.9604644775390625e-8f; }
// Random4j.uniformOpen: (0, 1]
__device__ __forceinline__ double uniform_open(u32 bits) { return (double)((bits >> 8) + 1) * 5.9604644775390625e-8; }

// out [n] of dtype dt: UNIFORM a + (b - a) u, NORMAL a + b z, INT a + floor(bits * (b - a) / 2^32).
extern "C" __global__ void random_fill(void* out, int dt, int kind, u64 seed, u64 offset, double a, double b, i64 n) {
    const double TWO_PI = 6.283185307179586;  // 2.0 * Math.PI, exact doubling
    FOR_EACH(t, (n + 3) / 4) {
        u32 w[4];
        philox(offset + (u64)t, seed, w);
        double z[4];
        if (kind == D_NORMAL) {
#pragma unroll
            for (int p = 0; p < 4; p += 2) {
                double r = ::sqrt(__dmul_rn(-2.0, ::log(uniform_open(w[p]))));
                double theta = __dmul_rn(TWO_PI, uniform_open(w[p + 1]));
                z[p] = __dmul_rn(r, ::cos(theta));
                z[p + 1] = __dmul_rn(r, ::sin(theta));
            }
        }
#pragma unroll
        for (int q = 0; q < 4; q++) {
            i64 i = 4 * t + q;
            if (i >= n) break;
            double v;
            if (kind == D_UNIFORM) v = __dadd_rn(a, __dmul_rn(b - a, (double)uniform_float(w[q])));
            else if (kind == D_NORMAL) v = __dadd_rn(a, __dmul_rn(b, z[q]));
            else v = a + (double)(((u64)w[q] * (u64)(i64)(b - a)) >> 32);
            store_d(out, dt, i, v);
        }
    }
}

// Dropout in one pass, with the numbers random_fill draws for UNIFORM [0, 1) at this (seed, offset): element i is
// kept when u_i >= p, and out[i] = x[i] * m with m = scale (= (float)(1 / (1 - p))) or 0, exactly the composed
// x * mask (so -0.0 and NaN come out as there); bf16 data (autocast's activations) is multiplied in float and rounded
// once. The same call on the output gradient is the backward (dropout is linear), so no mask is stored. x, out
// contiguous [n]; may alias. vec4: both aligned to 4 elements (one 4-element load and store per Philox block of 4).
// offsetShift: device memory added to offset (0 in eager steps; a captured step's replays shift their draws there)
__device__ __forceinline__ void scale4(const float* x, float* out, i64 t, const float m[4]) {
    float4 v = ((const float4*)x)[t];
    v.x *= m[0];
    v.y *= m[1];
    v.z *= m[2];
    v.w *= m[3];
    ((float4*)out)[t] = v;
}
__device__ __forceinline__ void scale4(const u16* x, u16* out, i64 t, const float m[4]) {
    ushort4 v = ((const ushort4*)x)[t];
    v.x = f32_to_bf16(bf16_to_f32(v.x) * m[0]);
    v.y = f32_to_bf16(bf16_to_f32(v.y) * m[1]);
    v.z = f32_to_bf16(bf16_to_f32(v.z) * m[2]);
    v.w = f32_to_bf16(bf16_to_f32(v.w) * m[3]);
    ((ushort4*)out)[t] = v;
}

template <int DT>
__device__ __forceinline__ void dropout_typed(const typename Ty<DT>::S* x, typename Ty<DT>::S* out, double p, float scale,
                                              u64 seed, u64 offset, const i64* offsetShift, i64 n, int vec4) {
    offset += (u64)*offsetShift;
    if (aligned16(x) && aligned16(out)) {  // 8 elements (two Philox blocks) per 16-byte access
        for_each_group8(n, [&](i64 g) {
            u32 w[8];
            philox(offset + 2 * (u64)g, seed, w);
            philox(offset + 2 * (u64)g + 1, seed, w + 4);
            float v[8];
            Vec8<DT>::ld(x, g, v);
#pragma unroll
            for (int q = 0; q < 8; q++) v[q] *= (double)uniform_float(w[q]) >= p ? scale : 0.0f;
            Vec8<DT>::st(out, g, v);
        }, [&](i64 i) {
            u32 w[4];
            philox(offset + (u64)(i >> 2), seed, w);
            Ty<DT>::st(out, i, Ty<DT>::ld(x, i) * ((double)uniform_float(w[i & 3]) >= p ? scale : 0.0f));
        });
        return;
    }
    FOR_EACH(t, (n + 3) / 4) {
        u32 w[4];
        philox(offset + (u64)t, seed, w);
        float m[4];
#pragma unroll
        for (int q = 0; q < 4; q++) m[q] = (double)uniform_float(w[q]) >= p ? scale : 0.0f;
        if (vec4 && 4 * t + 3 < n) {
            scale4(x, out, t, m);
            continue;
        }
#pragma unroll
        for (int q = 0; q < 4; q++) {
            i64 i = 4 * t + q;
            if (i >= n) break;
            Ty<DT>::st(out, i, Ty<DT>::ld(x, i) * m[q]);
        }
    }
}

extern "C" __global__ void dropout_f32(const float* x, float* out, double p, float scale, u64 seed, u64 offset,
                                       const i64* offsetShift, i64 n, int vec4) {
    dropout_typed<DT_F32>(x, out, p, scale, seed, offset, offsetShift, n, vec4);
}
extern "C" __global__ void dropout_bf16(const u16* x, u16* out, double p, float scale, u64 seed, u64 offset,
                                        const i64* offsetShift, i64 n, int vec4) {
    dropout_typed<DT_BF16>(x, out, p, scale, seed, offset, offsetShift, n, vec4);
}
