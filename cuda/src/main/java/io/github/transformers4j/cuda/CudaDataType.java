package io.github.transformers4j.cuda;

/** Element types as cuBLASLt names them ({@code cudaDataType_t} of library_types.h). */
public enum CudaDataType {
    F32(0, 4), F64(1, 8), F16(2, 2), BF16(14, 2);

    private final int code;
    private final int byteSize;

    CudaDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    public int code() { return code; }
    public int byteSize() { return byteSize; }
}
