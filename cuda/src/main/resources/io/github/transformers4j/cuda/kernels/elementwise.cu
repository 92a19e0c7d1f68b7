// Elementwise float32 kernels. Grid-stride loops: any grid covers any n, so the launcher can cap the grid at a few
// waves of the GPU. n is a 64-bit count; out may alias an input (in-place ops), so no __restrict__ on out.

extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = a[i] + b[i];
}

extern "C" __global__ void mul_f32(const float* a, const float* b, float* out, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = a[i] * b[i];
}

extern "C" __global__ void fill_f32(float* out, float value, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = value;
}
