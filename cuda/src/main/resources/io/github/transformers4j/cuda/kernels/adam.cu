// One Adam/AdamW step in place over p, g, m, v [n] (CpuMisc.adamStep's order of operations and roundings:
// decoupled decay p *= 1 - lr*wd, else g += wd*p; m, v in double then rounded; denom = sqrt(v)/sqrt(bc2) + eps;
// p -= (lr/bc1) * m / denom). The _rn intrinsics stop the compiler from fusing multiply-adds, which Java never does,
// so a step gives the same bits as the CPU.
#include "common.cuh"

extern "C" __global__ void adam_f32(float* p, const float* g, float* m, float* v, double lr, double beta1, double beta2,
                                    double eps, double wd, double stepSize, double bc2Sqrt, int decoupled, i64 n) {
    float decay = (float)(1.0 - __dmul_rn(lr, wd)), wdf = (float)wd;
    FOR_EACH(i, n) {
        float pv = p[i], gv = g[i];
        if (decoupled) pv = __fmul_rn(pv, decay);
        else gv = __fadd_rn(gv, __fmul_rn(wdf, pv));
        float mv = (float)__dadd_rn(__dmul_rn(beta1, (double)m[i]), __dmul_rn(1.0 - beta1, (double)gv));
        float vv = (float)__dadd_rn(__dmul_rn(beta2, (double)v[i]), __dmul_rn(__dmul_rn(1.0 - beta2, (double)gv), (double)gv));
        m[i] = mv;
        v[i] = vv;
        float denom = (float)__dadd_rn(::sqrt((double)vv) / bc2Sqrt, eps);
        p[i] = (float)__dadd_rn((double)pv, -(__dmul_rn(stepSize, (double)mv) / (double)denom));
    }
}

extern "C" __global__ void adam_f64(double* p, const double* g, double* m, double* v, double lr, double beta1,
                                    double beta2, double eps, double wd, double stepSize, double bc2Sqrt, int decoupled,
                                    i64 n) {
    FOR_EACH(i, n) {
        double pv = p[i], gv = g[i];
        if (decoupled) pv = __dmul_rn(pv, 1.0 - __dmul_rn(lr, wd));
        else gv = __dadd_rn(gv, __dmul_rn(wd, pv));
        double mv = __dadd_rn(__dmul_rn(beta1, m[i]), __dmul_rn(1.0 - beta1, gv));
        double vv = __dadd_rn(__dmul_rn(beta2, v[i]), __dmul_rn(__dmul_rn(1.0 - beta2, gv), gv));
        m[i] = mv;
        v[i] = vv;
        p[i] = __dadd_rn(pv, -(__dmul_rn(stepSize, mv) / __dadd_rn(::sqrt(vv) / bc2Sqrt, eps)));
    }
}

// Multi-tensor Adam/AdamW: up to ADAM_MULTI tensors per launch, passed by value (a captured graph keeps them), their
// elements seen as one range [0, end[count-1]) walked by a grid-stride loop. The scalars come from device memory,
// 8 per tensor: lr, beta1, beta2, eps, wd, lr / bc1, sqrt(bc2), decoupled, so a replayed graph uses the current ones.
// The arithmetic is adam_f32's exactly (same bits). low[t], when not null, receives the new p in bf16.
#define ADAM_MULTI 48
struct AdamTable {
    float* p[ADAM_MULTI];
    const float* g[ADAM_MULTI];
    float* m[ADAM_MULTI];
    float* v[ADAM_MULTI];
    u16* low[ADAM_MULTI];
    i64 end[ADAM_MULTI];  // prefix sums of the tensors' sizes
};

extern "C" __global__ void adam_multi_f32(AdamTable t, int count, const double* hyper) {
    int k = 0;
    i64 total = t.end[count - 1];
    FOR_EACH(i, total) {  // i grows, so the tensor index only moves forward
        while (i >= t.end[k]) k++;
        i64 j = i - (k == 0 ? 0 : t.end[k - 1]);
        const double* h = hyper + 8 * k;
        double lr = h[0], beta1 = h[1], beta2 = h[2], eps = h[3], wd = h[4], stepSize = h[5], bc2Sqrt = h[6];
        int decoupled = h[7] != 0.0;
        float decay = (float)(1.0 - __dmul_rn(lr, wd)), wdf = (float)wd;
        float pv = t.p[k][j], gv = t.g[k][j];
        if (decoupled) pv = __fmul_rn(pv, decay);
        else gv = __fadd_rn(gv, __fmul_rn(wdf, pv));
        float mv = (float)__dadd_rn(__dmul_rn(beta1, (double)t.m[k][j]), __dmul_rn(1.0 - beta1, (double)gv));
        float vv = (float)__dadd_rn(__dmul_rn(beta2, (double)t.v[k][j]), __dmul_rn(__dmul_rn(1.0 - beta2, (double)gv), (double)gv));
        t.m[k][j] = mv;
        t.v[k][j] = vv;
        float denom = (float)__dadd_rn(::sqrt((double)vv) / bc2Sqrt, eps);
        float np = (float)__dadd_rn((double)pv, -(__dmul_rn(stepSize, (double)mv) / (double)denom));
        t.p[k][j] = np;
        if (t.low[k]) t.low[k][j] = f32_to_bf16(np);
    }
}

// Global gradient-norm clipping over up to ADAM_MULTI tensors per launch (the same by-value table, only g and end
// used): grad_sumsq adds each block's sum of squares (in double, deterministic order) to partial[blockIdx.x]; one block
// of grad_clip_coef sums the partials of every launch in order and writes norm = sqrt(sum) and
// coef = min(1, maxNorm / (norm + 1e-6)); grad_scale multiplies every gradient by coef. Nothing is read on the host.
extern "C" __global__ void grad_sumsq(AdamTable t, int count, double* partial) {
    __shared__ double shared[32];
    int k = 0;
    i64 total = t.end[count - 1];
    double acc = 0;
    FOR_EACH(i, total) {
        while (i >= t.end[k]) k++;
        double g = (double)t.g[k][i - (k == 0 ? 0 : t.end[k - 1])];
        acc += g * g;
    }
    double s = block_sum(acc, shared);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

extern "C" __global__ void grad_clip_coef(const double* partial, i64 n, double maxNorm, float* normCoef) {
    __shared__ double shared[32];
    double acc = 0;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) acc += partial[i];
    double s = block_sum(acc, shared);
    if (threadIdx.x == 0) {
        double norm = ::sqrt(s);
        double coef = maxNorm / (norm + 1e-6);
        normCoef[0] = (float)norm;
        normCoef[1] = (float)(coef < 1.0 || coef != coef ? coef : 1.0);  // a NaN norm gives a NaN coefficient, as PyTorch
    }
}

extern "C" __global__ void grad_scale(AdamTable t, int count, const float* normCoef) {
    int k = 0;
    i64 total = t.end[count - 1];
    float c = normCoef[1];
    FOR_EACH(i, total) {
        while (i >= t.end[k]) k++;
        float* g = (float*)t.g[k];
        g[i - (k == 0 ? 0 : t.end[k - 1])] *= c;
    }
}
