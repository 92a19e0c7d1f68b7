package io.github.transformers4j.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory (cuMemHostAlloc, portable to every context): copies from and to it can run asynchronously
 * and at full bus speed. Use it for staging batches while the GPU computes.
 */
public final class PinnedBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment segment;
    private boolean closed;

    public PinnedBuffer(CudaDevice device, long bytes) {
        this.device = device;
        device.makeCurrent();
        this.segment = Driver.memHostAlloc(bytes, Driver.CU_MEMHOSTALLOC_PORTABLE);
    }

    /** The host memory; valid until {@link #close()}. */
    public MemorySegment segment() { return segment; }

    public long bytes() { return segment.byteSize(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        Driver.memFreeHost(segment);
    }
}
