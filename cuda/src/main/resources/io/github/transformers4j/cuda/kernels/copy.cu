// Copies with dtype conversion, and fills. Conversions follow the CPU backend: integer -> I64 keeps all 64 bits,
// everything else travels through double (as Access.get/set do).
#include "common.cuh"

__device__ __forceinline__ void convert_elem(void* dst, int ddt, i64 di, const void* src, int sdt, i64 si, int esize) {
    if (sdt == ddt) copy_elem(dst, di, src, si, esize);
    else if (ddt == DT_I64 && is_int_dtype(sdt)) ((i64*)dst)[di] = load_l(src, sdt, si);
    else if (sdt == DT_F32 && ddt == DT_BF16) ((u16*)dst)[di] = f32_to_bf16(((const float*)src)[si]);
    else if (sdt == DT_BF16 && ddt == DT_F32) ((float*)dst)[di] = bf16_to_f32(((const u16*)src)[si]);
    else store_d(dst, ddt, di, load_d(src, sdt, si));
}

// dst[i] = convert(src[i]) for i < n; both contiguous.
// src [n] (sdt), dst [n] (ddt)
extern "C" __global__ void copy_contiguous(const void* src, int sdt, void* dst, int ddt, int esize, i64 n) {
    if (sdt == DT_F32 && ddt == DT_BF16) {  // autocast's conversions, in rounds (for_each_unrolled)
        for_each_unrolled<float>(n, [&](i64 i) { return ((const float*)src)[i]; },
                                 [&](i64 i, float v) { ((u16*)dst)[i] = f32_to_bf16(v); });
    } else if (sdt == DT_BF16 && ddt == DT_F32) {
        for_each_unrolled<u16>(n, [&](i64 i) { return ((const u16*)src)[i]; },
                               [&](i64 i, u16 v) { ((float*)dst)[i] = bf16_to_f32(v); });
    } else {
        FOR_EACH(i, n) convert_elem(dst, ddt, i, src, sdt, i, esize);
    }
}

// dst[idx] = convert(src[idx]) over the shape of L; L.stride[0] is src's, L.stride[1] dst's (in elements).
extern "C" __global__ void copy_strided(Layout L, const void* src, int sdt, void* dst, int ddt, int esize, i64 n) {
    FOR_EACH(i, n) {
        i64 off[2];
        offsets<2>(L, i, off);
        convert_elem(dst, ddt, off[1], src, sdt, off[0], esize);
    }
}

// Same-dtype strided copy in 16-byte units (the Java side checked: innermost dim contiguous on both sides, its
// length and every other stride a multiple of 16 bytes, both bases 16-byte aligned); L counts 16-byte elements.
// Head (un)packing for attention moves rows of 32 or 64 floats this way with 4x less index arithmetic.
extern "C" __global__ void copy_strided_v16(Layout L, const int4* src, int4* dst, i64 n) {
    FOR_EACH(i, n) {
        i64 off[2];
        offsets<2>(L, i, off);
        dst[off[1]] = src[off[0]];
    }
}

// dst[i] = value for i < n (contiguous), converted as Access.set does.
extern "C" __global__ void fill(void* dst, int dt, double value, i64 n) {
    FOR_EACH(i, n) store_d(dst, dt, i, value);
}
