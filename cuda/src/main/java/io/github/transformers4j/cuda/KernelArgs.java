package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Kernel arguments in declaration order, each in an 8-byte slot:
 * {@code KernelArgs.of().ptr(a).ptr(b).ptr(out).i64(n)} for {@code (const float*, const float*, float*, long long)}.
 */
public final class KernelArgs {
    /** Most arguments one launch takes (the per-thread scratch buffer holds this many slots and pointers). */
    public static final int MAX = 128;
    private static final byte I32 = 0, I64 = 1, F32 = 2;

    private long[] bits = new long[8];
    private byte[] kinds = new byte[8];
    private int size;

    public static KernelArgs of() { return new KernelArgs(); }

    private KernelArgs add(byte kind, long value) {
        if (size == bits.length) {
            bits = Arrays.copyOf(bits, size * 2);
            kinds = Arrays.copyOf(kinds, size * 2);
        }
        bits[size] = value;
        kinds[size++] = kind;
        return this;
    }

    /** A device pointer (any {@code T*}). */
    public KernelArgs ptr(long devicePointer) { return add(I64, devicePointer); }
    public KernelArgs ptr(DeviceBuffer buffer) { return add(I64, buffer.pointer()); }
    public KernelArgs i32(int v) { return add(I32, v); }
    public KernelArgs i64(long v) { return add(I64, v); }
    public KernelArgs f32(float v) { return add(F32, Float.floatToRawIntBits(v)); }

    public int size() { return size; }

    void writeTo(MemorySegment slots) {
        for (int i = 0; i < size; i++) {
            long off = 8L * i;
            switch (kinds[i]) {
                case I32 -> slots.set(JAVA_INT, off, (int) bits[i]);
                case F32 -> slots.set(JAVA_FLOAT, off, Float.intBitsToFloat((int) bits[i]));
                default -> slots.set(JAVA_LONG, off, bits[i]);
            }
        }
    }
}
