package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Kernel arguments in declaration order: {@code KernelArgs.of().ptr(a).ptr(b).ptr(out).i64(n)} for
 * {@code (const float*, const float*, float*, long long)}. Scalars take an 8-byte slot each; a struct passed by value
 * ({@link #struct(long...)}) takes as many 8-byte words as it has (a struct made only of 8-byte fields).
 */
public final class KernelArgs {
    /** Most arguments one launch takes. */
    public static final int MAX = 128;
    /** Most bytes of argument values one launch takes (CUDA itself allows 32 KB of parameters on Hopper). */
    public static final int MAX_VALUE_BYTES = 8192;
    private static final byte I32 = 0, I64 = 1, F32 = 2, F64 = 3, STRUCT = 4;

    private long[] bits = new long[8];
    private byte[] kinds = new byte[8];
    private long[][] structs;
    private int size;
    private int words;

    public static KernelArgs of() { return new KernelArgs(); }

    private KernelArgs add(byte kind, long value) {
        if (size == bits.length) {
            bits = Arrays.copyOf(bits, size * 2);
            kinds = Arrays.copyOf(kinds, size * 2);
            if (structs != null) structs = Arrays.copyOf(structs, size * 2);
        }
        bits[size] = value;
        kinds[size++] = kind;
        words++;
        return this;
    }

    /** A device pointer (any {@code T*}). */
    public KernelArgs ptr(long devicePointer) { return add(I64, devicePointer); }
    public KernelArgs ptr(DeviceBuffer buffer) { return add(I64, buffer.pointer()); }
    public KernelArgs i32(int v) { return add(I32, v); }
    public KernelArgs i64(long v) { return add(I64, v); }
    public KernelArgs f32(float v) { return add(F32, Float.floatToRawIntBits(v)); }
    public KernelArgs f64(double v) { return add(F64, Double.doubleToRawLongBits(v)); }

    /** A struct by value whose fields are all 8 bytes wide ({@code long long}, {@code double}, pointers). */
    public KernelArgs struct(long... fields) {
        add(STRUCT, 0);
        if (structs == null) structs = new long[bits.length][];
        structs[size - 1] = fields.clone();
        words += fields.length - 1;
        return this;
    }

    public int size() { return size; }

    /** Bytes the values take. */
    int valueBytes() { return 8 * words; }

    /** Writes the values into {@code slots} and a pointer to each value into {@code pointers}. */
    void writeTo(MemorySegment slots, MemorySegment pointers) {
        long off = 0, base = slots.address();
        for (int i = 0; i < size; i++) {
            pointers.setAtIndex(JAVA_LONG, i, base + off);
            switch (kinds[i]) {
                case I32 -> slots.set(JAVA_INT, off, (int) bits[i]);
                case F32 -> slots.set(JAVA_FLOAT, off, Float.intBitsToFloat((int) bits[i]));
                case F64 -> slots.set(JAVA_DOUBLE, off, Double.longBitsToDouble(bits[i]));
                case STRUCT -> {
                    long[] f = structs[i];
                    for (int k = 0; k < f.length; k++) slots.set(JAVA_LONG, off + 8L * k, f[k]);
                    off += 8L * (f.length - 1);
                }
                default -> slots.set(JAVA_LONG, off, bits[i]);
            }
            off += 8;
        }
    }
}
