// out = a op b and out = cond ? a : b over strided operands already expanded to out's shape (stride 0 where
// broadcast). Shapes and strides come in a Layout: stride[0] a, stride[1] b, stride[2] out (where: cond, a, b, out).
// The gradients of these ops are compositions of other ops (tensor/Elementwise.java), so no backward kernels here.
#include "common.cuh"

// = io.github.transformers4j.tensor.BinaryOp ordinals (checked by a test against the Java enum)
// enum BinaryOp { ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE, AND, OR, GELU_BACKWARD, RELU_BACKWARD }
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE, B_AND, B_OR, B_GELU_BACKWARD, B_RELU_BACKWARD };

template <typename C>
__device__ __forceinline__ C binary_op(int op, C a, C b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_POW: return m_pow(a, b);
        case B_MAXIMUM: return m_isnan(a) || m_isnan(b) ? m_nan<C>() : (a > b ? a : b);
        case B_MINIMUM: return m_isnan(a) || m_isnan(b) ? m_nan<C>() : (a < b ? a : b);
        case B_EQ: return a == b;
        case B_NE: return a != b;
        case B_LT: return a < b;
        case B_LE: return a <= b;
        case B_GT: return a > b;
        case B_GE: return a >= b;
        case B_AND: return a != C(0) && b != C(0);
        case B_GELU_BACKWARD:  // a * gelu'(b), gelu' as unary.cu's U_GELU_GRAD in the compute type
            return a * (C(0.5) * m_erfc(-b * C(0.7071067811865476)) + b * m_exp(C(-0.5) * b * b) * C(0.3989422804014327));
        case B_RELU_BACKWARD: return a * (b > C(0) ? C(1) : C(0));  // as a * INSIDE(b, > 0): -0 and NaN of a kept
        default: return a != C(0) || b != C(0);  // B_OR
    }
}

// a, b and out all contiguous (one dim of unit strides after the Java side merged the dims): element i at [i].
__device__ __forceinline__ bool contiguous3(const Layout& L) {
    return L.ndim == 1 && L.stride[0][0] == 1 && L.stride[1][0] == 1 && L.stride[2][0] == 1;
}

// One element's operands and where its result goes (for_each_unrolled's loads).
template <typename C>
struct Operands {
    C a, b;
    i64 out;
};

template <int DT>
__device__ __forceinline__ void binary_typed(int op, Layout L, const void* a, const void* b, void* out, i64 n) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    bool cmp = op >= B_EQ && op <= B_OR;
    if (DT != DT_F64 && !cmp && contiguous3(L) && aligned16(a) && aligned16(b) && aligned16(out)) {  // 8 per 16-byte access
        constexpr int V = DT == DT_F64 ? DT_F32 : DT;  // (the f64 instance never takes this branch)
        for_each_group8(n, [&](i64 g) {
            float x[8], y[8];
            Vec8<V>::ld(a, g, x);
            Vec8<V>::ld(b, g, y);
#pragma unroll
            for (int u = 0; u < 8; u++) x[u] = binary_op<float>(op, x[u], y[u]);
            Vec8<V>::st(out, g, x);
        }, [&](i64 i) { Ty<DT>::st((S*)out, i, binary_op<C>(op, Ty<DT>::ld((const S*)a, i), Ty<DT>::ld((const S*)b, i))); });
        return;
    }
    for_each_unrolled<Operands<C>>(n, [&](i64 i) {
        i64 off[3];
        offsets<3>(L, i, off);
        return Operands<C>{Ty<DT>::ld((const S*)a, off[0]), Ty<DT>::ld((const S*)b, off[1]), off[2]};
    }, [&](i64, Operands<C> v) {
        C r = binary_op<C>(op, v.a, v.b);
        if (cmp) ((u8*)out)[v.out] = r != C(0);
        else Ty<DT>::st((S*)out, v.out, r);
    });
}

// a, b of one floating-point dtype; out of that dtype, or BOOL for comparisons.
extern "C" __global__ void binary_f32(int op, Layout L, const void* a, const void* b, void* out, i64 n) { binary_typed<DT_F32>(op, L, a, b, out, n); }
extern "C" __global__ void binary_f64(int op, Layout L, const void* a, const void* b, void* out, i64 n) { binary_typed<DT_F64>(op, L, a, b, out, n); }
extern "C" __global__ void binary_bf16(int op, Layout L, const void* a, const void* b, void* out, i64 n) { binary_typed<DT_BF16>(op, L, a, b, out, n); }
extern "C" __global__ void binary_f16(int op, Layout L, const void* a, const void* b, void* out, i64 n) { binary_typed<DT_F16>(op, L, a, b, out, n); }

// An fp32 result from operands of which one is 16-bit (bf16 autocast: the residual stream plus a bf16 branch), the
// narrow one widened on load: no widened copy of it is written first. da, db: dtype codes (DT_F32, DT_BF16, DT_F16).
__device__ __forceinline__ float ld_float(const void* p, int dt, i64 i) {
    return dt == DT_F32 ? ((const float*)p)[i] : dt == DT_BF16 ? bf16_to_f32(((const u16*)p)[i]) : f16_to_f32(((const u16*)p)[i]);
}
extern "C" __global__ void binary_f32_mixed(int op, Layout L, const void* a, int da, const void* b, int db, float* out, i64 n) {
    if (contiguous3(L) && aligned16(a) && aligned16(b) && aligned16(out)) {  // 8 elements per operand and round
        for_each_group8(n, [&](i64 g) {
            float x[8], y[8];
            ld8_float(a, da, g, x);
            ld8_float(b, db, g, y);
#pragma unroll
            for (int u = 0; u < 8; u++) x[u] = binary_op<float>(op, x[u], y[u]);
            Vec8<DT_F32>::st(out, g, x);
        }, [&](i64 i) { out[i] = binary_op<float>(op, ld_float(a, da, i), ld_float(b, db, i)); });
        return;
    }
    for_each_unrolled<Operands<float>>(n, [&](i64 i) {
        i64 off[3];
        offsets<3>(L, i, off);
        return Operands<float>{ld_float(a, da, off[0]), ld_float(b, db, off[1]), off[2]};
    }, [&](i64, Operands<float> v) { out[v.out] = binary_op<float>(op, v.a, v.b); });
}

// Integer and BOOL operands: computed in double, as the CPU's generic path.
extern "C" __global__ void binary_generic(int op, Layout L, const void* a, const void* b, int dt, void* out, int odt, i64 n) {
    FOR_EACH(i, n) {
        i64 off[3];
        offsets<3>(L, i, off);
        store_d(out, odt, off[2], binary_op<double>(op, load_d(a, dt, off[0]), load_d(b, dt, off[1])));
    }
}

// out = cond ? a : b; cond BOOL, a, b and out of one dtype of esize bytes.
extern "C" __global__ void where_strided(Layout L, const u8* cond, const void* a, const void* b, void* out, int esize, i64 n) {
    FOR_EACH(i, n) {
        i64 off[4];
        offsets<4>(L, i, off);
        if (cond[off[0]]) copy_elem(out, off[3], a, off[1], esize);
        else copy_elem(out, off[3], b, off[2], esize);
    }
}
