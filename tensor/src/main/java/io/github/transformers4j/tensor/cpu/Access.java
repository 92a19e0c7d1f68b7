package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Element access by dtype (the slow, generic path) and bf16/f16 conversions. */
final class Access {
    private Access() {}

    static MemorySegment seg(Tensor t) {
        return ((CpuStorage) t.storage()).segment();
    }

    static double get(MemorySegment s, DType t, long i) {
        return switch (t) {
            case F32 -> s.getAtIndex(JAVA_FLOAT, i);
            case F64 -> s.getAtIndex(JAVA_DOUBLE, i);
            case BF16 -> bf16ToFloat(s.getAtIndex(JAVA_SHORT, i));
            case F16 -> Float.float16ToFloat(s.getAtIndex(JAVA_SHORT, i));
            case I64 -> s.getAtIndex(JAVA_LONG, i);
            case I32 -> s.getAtIndex(JAVA_INT, i);
            case U8 -> s.get(JAVA_BYTE, i) & 0xFF;
            case BOOL -> s.get(JAVA_BYTE, i) != 0 ? 1 : 0;
        };
    }

    static void set(MemorySegment s, DType t, long i, double v) {
        switch (t) {
            case F32 -> s.setAtIndex(JAVA_FLOAT, i, (float) v);
            case F64 -> s.setAtIndex(JAVA_DOUBLE, i, v);
            case BF16 -> s.setAtIndex(JAVA_SHORT, i, floatToBf16((float) v));
            case F16 -> s.setAtIndex(JAVA_SHORT, i, Float.floatToFloat16((float) v));
            case I64 -> s.setAtIndex(JAVA_LONG, i, (long) v);
            case I32 -> s.setAtIndex(JAVA_INT, i, (int) (long) v);
            case U8 -> s.set(JAVA_BYTE, i, (byte) (long) v);
            case BOOL -> s.set(JAVA_BYTE, i, (byte) (v != 0 ? 1 : 0));
        }
    }

    static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    /** Round to nearest even; NaN stays NaN. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return (short) ((bits >>> 16) | 0x40);
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** Long-valued read that keeps all 64 bits of I64 (doubles lose precision above 2^53). */
    static long getLong(MemorySegment s, DType t, long i) {
        return switch (t) {
            case I64 -> s.getAtIndex(JAVA_LONG, i);
            case I32 -> s.getAtIndex(JAVA_INT, i);
            default -> (long) get(s, t, i);
        };
    }
}
