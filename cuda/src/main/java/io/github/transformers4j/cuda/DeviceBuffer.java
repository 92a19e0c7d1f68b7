package io.github.transformers4j.cuda;

/**
 * A block of device memory from a {@link CachingAllocator}. {@link #close()} returns it to the allocator's cache for
 * reuse by later allocations on the same stream (stream order makes that safe without a synchronization); using it on
 * another stream requires that stream to be ordered after this one (an event) before it is closed.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CachingAllocator allocator;
    private final long pointer;
    private final long bytes;
    private final long capacity;
    private final long stream;
    private final int pool;
    private boolean closed;

    DeviceBuffer(CachingAllocator allocator, long pointer, long bytes, long capacity, long stream, int pool) {
        this.allocator = allocator;
        this.pointer = pointer;
        this.bytes = bytes;
        this.capacity = capacity;
        this.stream = stream;
        this.pool = pool;
    }

    /** The CUdeviceptr. */
    public long pointer() { return pointer; }
    /** The bytes asked for. */
    public long bytes() { return bytes; }
    /** The bytes reserved (the size bucket). */
    public long capacity() { return capacity; }
    /** The CUstream it was allocated for. */
    public long stream() { return stream; }
    public int deviceIndex() { return allocator.deviceIndex(); }
    /** The allocator pool it came from: 0, or a captured graph's private pool. */
    public int pool() { return pool; }
    public boolean isClosed() { return closed; }

    void markClosed() {
        if (closed) throw new IllegalStateException("device buffer 0x" + Long.toHexString(pointer) + " ("
                + bytes + " bytes on cuda:" + allocator.deviceIndex() + ") freed twice");
        closed = true;
    }

    @Override
    public void close() { allocator.free(this); }

    @Override
    public String toString() {
        return "DeviceBuffer[cuda:" + allocator.deviceIndex() + ", 0x" + Long.toHexString(pointer) + ", " + bytes
                + " bytes]";
    }
}
