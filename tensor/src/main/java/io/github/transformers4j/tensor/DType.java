package io.github.transformers4j.tensor;

/** Element types. BF16 and F16 are storage types on the CPU: arithmetic reads them as float and rounds on write. */
public enum DType {
    F32(4, true), F64(8, true), BF16(2, true), F16(2, true), I64(8, false), I32(4, false), U8(1, false), BOOL(1, false);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** BF16 or F16: the 16-bit floating-point types of mixed precision. */
    public boolean isHalf() {
        return this == BF16 || this == F16;
    }

    /** Result type of an arithmetic op on two tensors, following PyTorch's promotion of the categories. */
    public static DType promote(DType a, DType b) {
        if (a == b) return a;
        if (a == F64 || b == F64) return F64;
        if (a == F32 || b == F32) return F32;
        if (a.floatingPoint && b.floatingPoint) return F32; // BF16 with F16
        if (a.floatingPoint) return a;
        if (b.floatingPoint) return b;
        if (a == I64 || b == I64) return I64;
        if (a == I32 || b == I32) return I32;
        return U8;
    }
}
