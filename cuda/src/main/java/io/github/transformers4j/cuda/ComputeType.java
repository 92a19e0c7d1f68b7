package io.github.transformers4j.cuda;

/** How cuBLASLt accumulates ({@code cublasComputeType_t} of cublas_api.h). */
public enum ComputeType {
    /** fp32 arithmetic; with bf16/fp16 inputs, fp32 accumulation on the tensor cores. */
    F32(68),
    /** fp32 without any reduced-precision shortcuts. */
    F32_PEDANTIC(69),
    /** fp32 inputs rounded to TF32 on the tensor cores, fp32 accumulation (about 1e-3 relative error). */
    TF32(77),
    /** fp32 inputs rounded to bf16 on the tensor cores, fp32 accumulation. */
    F32_FAST_BF16(75),
    F64(70);

    private final int code;

    ComputeType(int code) { this.code = code; }

    public int code() { return code; }

    /** The type alpha and beta are given in: double for F64, float otherwise. */
    public CudaDataType scaleType() { return this == F64 ? CudaDataType.F64 : CudaDataType.F32; }
}
