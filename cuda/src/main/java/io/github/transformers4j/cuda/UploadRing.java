package io.github.transformers4j.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Pinned staging for host-to-device copies that do not wait for the GPU. The caller's bytes are copied on the host
 * into a ring of pinned segments and the device copy is queued on the stream; the call returns at once, so the caller
 * may reuse its buffer and the host keeps queueing work while the GPU catches up (a training step's batch upload no
 * longer drains the queue). A segment is written again only after the event recorded behind its last copy completed.
 * Not thread-safe: the backend calls it under its host lock.
 */
final class UploadRing implements AutoCloseable {
    static final int SEGMENTS = 8;
    static final long SEGMENT_BYTES = 4L << 20;
    private static final long ALIGN = 256;

    private final CudaDevice gpu;
    private final CudaStream stream;
    private PinnedBuffer buffer;
    private final CudaEvent[] done = new CudaEvent[SEGMENTS];
    private final boolean[] inFlight = new boolean[SEGMENTS];
    private int segment;
    private long used;
    private long waits;

    UploadRing(CudaDevice gpu, CudaStream stream) {
        this.gpu = gpu;
        this.stream = stream;
    }

    /** Queues a copy of {@code bytes} bytes of {@code src} to device address {@code dst}; returns without waiting. */
    void upload(MemorySegment src, long dst, long bytes) {
        if (buffer == null) {
            buffer = new PinnedBuffer(gpu, SEGMENTS * SEGMENT_BYTES);
            for (int i = 0; i < SEGMENTS; i++) done[i] = gpu.newEvent(false);
        }
        long copied = 0;
        while (copied < bytes) {
            if (used >= SEGMENT_BYTES) advance();
            long n = Math.min(bytes - copied, SEGMENT_BYTES - used);
            MemorySegment slot = buffer.segment().asSlice(segment * SEGMENT_BYTES + used, n);
            MemorySegment.copy(src, copied, slot, 0, n);
            stream.copyToDeviceAsync(slot, dst + copied, n);
            used = Math.min(SEGMENT_BYTES, (used + n + ALIGN - 1) / ALIGN * ALIGN);
            copied += n;
        }
    }

    /** Closes the current segment (an event behind its copies) and moves to the next, waiting until it is free. */
    private void advance() {
        done[segment].record(stream);
        inFlight[segment] = true;
        segment = (segment + 1) % SEGMENTS;
        used = 0;
        if (inFlight[segment]) {
            done[segment].synchronize();
            inFlight[segment] = false;
            waits++;
        }
    }

    /** How often an upload had to wait for the GPU to drain a segment (diagnostics). */
    long waits() { return waits; }

    @Override
    public void close() {
        if (buffer == null) return;
        stream.synchronize();
        for (CudaEvent e : done) e.close();
        buffer.close();
        buffer = null;
    }
}
