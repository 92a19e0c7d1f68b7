package io.github.transformers4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor as safetensors stores it: a dtype name ({@code "F32"}, {@code "BF16"}, ...), a shape, and the
 * row-major little-endian bytes, independent of {@code Tensor}. The constructor checks that the dtype is known
 * and that {@code data.byteSize() == product(shape) * itemSize}.
 *
 * <p>Tensors returned by {@link SafeTensors#read} hold read-only slices of the mapped file; they are valid
 * until the {@link SafeTensorsFile} is closed. {@link #of(String, long[], byte[])} wraps the array without
 * copying it.
 *
 * <p>{@code equals} compares dtype, shape and content (byte for byte); {@code hashCode} uses dtype and shape.
 */
public record RawTensor(String dtype, long[] shape, MemorySegment data) {

    public RawTensor {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        StDType type = StDType.byName(dtype);
        if (type == null) {
            throw new IllegalArgumentException("RawTensor: unknown dtype '" + dtype + "' (known: " + StDType.names() + ")");
        }
        shape = shape.clone();
        long expected = byteCount(shape, type.itemSize);
        if (expected < 0) {
            throw new IllegalArgumentException("RawTensor: invalid shape " + Arrays.toString(shape) + " x " + dtype
                    + (expected == -1 ? " (negative dimension)" : " (byte count overflows a long)"));
        }
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("RawTensor: data has " + data.byteSize() + " bytes but shape "
                    + Arrays.toString(shape) + " x " + dtype + " needs " + expected);
        }
    }

    /** Wraps {@code bytes} (not copied). */
    public static RawTensor of(String dtype, long[] shape, byte[] bytes) {
        return new RawTensor(dtype, shape, MemorySegment.ofArray(bytes));
    }

    /** Wraps the bytes between the buffer's position and limit (not copied; the buffer's order is ignored). */
    public static RawTensor of(String dtype, long[] shape, ByteBuffer bytes) {
        return new RawTensor(dtype, shape, MemorySegment.ofBuffer(bytes));
    }

    /** Item size of a dtype name in bytes, e.g. 2 for {@code "BF16"}; throws for unknown names. */
    public static int itemSize(String dtype) {
        StDType type = StDType.byName(dtype);
        if (type == null) {
            throw new IllegalArgumentException("unknown safetensors dtype '" + dtype + "' (known: " + StDType.names() + ")");
        }
        return type.itemSize;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions; 0 for a scalar. */
    public int dim() {
        return shape.length;
    }

    /** Number of elements (1 for a scalar, 0 if any dimension is 0). */
    public long numel() {
        return data.byteSize() / itemSize(dtype);
    }

    /** A read-only little-endian view of the data (at most 2 GiB; use {@link #data()} beyond that). */
    public ByteBuffer byteBuffer() {
        checkArraySized("byteBuffer");
        return data.asByteBuffer().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A copy of the data as a byte array (at most 2 GiB). */
    public byte[] toByteArray() {
        checkArraySized("toByteArray");
        return data.toArray(ValueLayout.JAVA_BYTE);
    }

    private void checkArraySized(String op) {
        if (data.byteSize() > Integer.MAX_VALUE - 8) {
            throw new UnsupportedOperationException("RawTensor." + op + ": " + data.byteSize()
                    + " bytes exceed the 2 GiB limit of Java arrays and buffers; use data() (a MemorySegment)");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawTensor(String d, long[] s, MemorySegment bytes)
                && dtype.equals(d) && Arrays.equals(shape, s)
                && data.byteSize() == bytes.byteSize()
                && MemorySegment.mismatch(data, 0, data.byteSize(), bytes, 0, bytes.byteSize()) == -1;
    }

    @Override
    public int hashCode() {
        return 31 * dtype.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "RawTensor[" + dtype + " " + Arrays.toString(shape) + ", " + data.byteSize() + " bytes]";
    }

    /**
     * {@code product(shape) * itemSize}, or -1 if a dimension is negative, -2 if the product overflows. A zero
     * dimension gives 0 even when the other dimensions would overflow together.
     */
    static long byteCount(long[] shape, int itemSize) {
        for (long d : shape) {
            if (d < 0) return -1;
            if (d == 0) return 0;
        }
        try {
            long n = itemSize;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        } catch (ArithmeticException overflow) {
            return -2;
        }
    }
}
