// out = op(x; p0, p1) elementwise, x and out contiguous [n]. Forward ops and the derivatives their backward
// passes use (GELU_GRAD, SILU_GRAD, INSIDE) side by side; the autograd formulas live in tensor/Elementwise.java.
#include "common.cuh"

// = io.github.transformers4j.tensor.UnaryOp ordinals (checked by a test against the Java enum)
// enum UnaryOp { NEG, EXP, LOG, SQRT, RSQRT, ABS, SIGN, SQUARE, RECIPROCAL, TANH, SIGMOID, RELU, GELU, GELU_TANH, SILU, POW, CLAMP, AFFINE, RPOW, INSIDE, GELU_GRAD, GELU_TANH_GRAD, SILU_GRAD, NOT }
enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_RSQRT, U_ABS, U_SIGN, U_SQUARE, U_RECIPROCAL, U_TANH, U_SIGMOID, U_RELU, U_GELU,
       U_GELU_TANH, U_SILU, U_POW, U_CLAMP, U_AFFINE, U_RPOW, U_INSIDE, U_GELU_GRAD, U_GELU_TANH_GRAD, U_SILU_GRAD,
       U_NOT };

template <typename C>
__device__ __forceinline__ C sigmoid(C x) {
    return x >= C(0) ? C(1) / (C(1) + m_exp(-x)) : m_exp(x) / (C(1) + m_exp(x));
}

template <typename C>
__device__ __forceinline__ C unary_op(int op, C x, C p0, C p1) {
    const C SQRT1_2 = C(0.7071067811865476), INV_SQRT_2PI = C(0.3989422804014327), GELU_K = C(0.7978845608028654);
    switch (op) {
        case U_NEG: return -x;
        case U_EXP: return m_exp(x);
        case U_LOG: return m_log(x);
        case U_SQRT: return m_sqrt(x);
        case U_RSQRT: return C(1) / m_sqrt(x);
        case U_ABS: return m_abs(x);
        case U_SIGN: return x > C(0) ? C(1) : x < C(0) ? C(-1) : x;  // keeps +-0 and NaN, as Math.signum
        case U_SQUARE: return x * x;
        case U_RECIPROCAL: return C(1) / x;
        case U_TANH: return m_tanh(x);
        case U_SIGMOID: return sigmoid(x);
        case U_RELU: return x > C(0) ? x : C(0);
        case U_GELU: return C(0.5) * x * m_erfc(-x * SQRT1_2);
        case U_GELU_GRAD: return C(0.5) * m_erfc(-x * SQRT1_2) + x * m_exp(C(-0.5) * x * x) * INV_SQRT_2PI;
        case U_GELU_TANH: return C(0.5) * x * (C(1) + m_tanh(GELU_K * (x + C(0.044715) * x * x * x)));
        case U_GELU_TANH_GRAD: {
            C u = GELU_K * (x + C(0.044715) * x * x * x), t = m_tanh(u);
            return C(0.5) * (C(1) + t) + C(0.5) * x * (C(1) - t * t) * GELU_K * (C(1) + C(3 * 0.044715) * x * x);
        }
        case U_SILU: return x * sigmoid(x);
        case U_SILU_GRAD: {
            C s = sigmoid(x);
            return s * (C(1) + x * (C(1) - s));
        }
        case U_POW: return m_pow(x, p0);
        case U_RPOW: return m_pow(p0, x);
        case U_CLAMP: {
            if (m_isnan(x) || m_isnan(p0) || m_isnan(p1)) return m_nan<C>();
            C lo = x > p0 ? x : p0;
            return lo < p1 ? lo : p1;
        }
        case U_AFFINE: return x * p0 + p1;
        case U_INSIDE: return x >= p0 && x <= p1 ? C(1) : C(0);
        default: return x == C(0) ? C(1) : C(0);  // U_NOT
    }
}

template <int DT>
__device__ __forceinline__ void unary_typed(int op, double p0, double p1, const void* x, void* out, i64 n) {
    typedef typename Ty<DT>::C C;
    typedef typename Ty<DT>::S S;
    C q0 = (C)p0, q1 = (C)p1;
    if (DT != DT_F64 && aligned16(x) && aligned16(out)) {  // 8 elements per 16-byte access
        constexpr int V = DT == DT_F64 ? DT_F32 : DT;     // (the f64 instance never takes this branch)
        for_each_group8(n, [&](i64 g) {
            float v[8];
            Vec8<V>::ld(x, g, v);
#pragma unroll
            for (int u = 0; u < 8; u++) v[u] = unary_op<float>(op, v[u], (float)q0, (float)q1);
            Vec8<V>::st(out, g, v);
        }, [&](i64 i) { Ty<DT>::st((S*)out, i, unary_op<C>(op, Ty<DT>::ld((const S*)x, i), q0, q1)); });
        return;
    }
    for_each_unrolled<C>(n, [&](i64 i) { return Ty<DT>::ld((const S*)x, i); },
                         [&](i64 i, C v) { Ty<DT>::st((S*)out, i, unary_op<C>(op, v, q0, q1)); });
}

// x [n] and out [n] of one floating-point dtype.
extern "C" __global__ void unary_f32(int op, double p0, double p1, const void* x, void* out, i64 n) { unary_typed<DT_F32>(op, p0, p1, x, out, n); }
extern "C" __global__ void unary_f64(int op, double p0, double p1, const void* x, void* out, i64 n) { unary_typed<DT_F64>(op, p0, p1, x, out, n); }
extern "C" __global__ void unary_bf16(int op, double p0, double p1, const void* x, void* out, i64 n) { unary_typed<DT_BF16>(op, p0, p1, x, out, n); }
extern "C" __global__ void unary_f16(int op, double p0, double p1, const void* x, void* out, i64 n) { unary_typed<DT_F16>(op, p0, p1, x, out, n); }

// Any dtypes (integer inputs, BOOL NOT, conversions): computed in double as the CPU's generic path.
extern "C" __global__ void unary_generic(int op, double p0, double p1, const void* x, int xdt, void* out, int odt, i64 n) {
    FOR_EACH(i, n) store_d(out, odt, i, unary_op<double>(op, load_d(x, xdt, i), p0, p1));
}
