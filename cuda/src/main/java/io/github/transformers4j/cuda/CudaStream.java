package io.github.transformers4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A CUDA stream of one device. Work on a stream runs in order; different streams may overlap. Streams are created
 * non-blocking: they are not ordered against the legacy NULL stream, so host/device copies go through a stream
 * (the synchronous helpers here enqueue on this stream and wait for it) rather than cuMemcpyHtoD/DtoH, which run on
 * the NULL stream and would race with kernels queued here.
 */
public final class CudaStream implements AutoCloseable {
    private final CudaDevice device;
    private final long handle;
    private boolean closed;

    CudaStream(CudaDevice device, long handle) {
        this.device = device;
        this.handle = handle;
    }

    public CudaDevice device() { return device; }
    /** The raw CUstream. */
    public long handle() { return handle; }

    public void synchronize() {
        device.makeCurrent();
        Driver.streamSynchronize(handle);
    }

    /** Makes this stream wait (on the device) for work recorded in {@code event}. */
    public void waitEvent(CudaEvent event) {
        device.makeCurrent();
        Driver.streamWaitEvent(handle, event.handle());
    }

    /** Copies host memory to the device after all work queued so far on this stream, and waits for the copy. */
    public void copyToDevice(MemorySegment src, long dst, long bytes) {
        copyToDeviceAsync(src, dst, bytes);
        synchronize();
    }

    /** Waits for this stream's queued work, then copies device memory to the host. */
    public void copyToHost(long src, MemorySegment dst, long bytes) {
        copyToHostAsync(src, dst, bytes);
        synchronize();
    }

    public void copyToDevice(float[] src, long dst) {
        try (Arena a = Arena.ofConfined()) {
            copyToDevice(a.allocateFrom(ValueLayout.JAVA_FLOAT, src), dst, 4L * src.length);
        }
    }

    public float[] copyToHostFloats(long src, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(ValueLayout.JAVA_FLOAT, count);
            copyToHost(src, buf, 4L * count);
            return buf.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Asynchronous only when {@code src} is pinned ({@link PinnedBuffer}); pageable memory is staged first. */
    public void copyToDeviceAsync(MemorySegment src, long dst, long bytes) {
        device.makeCurrent();
        Driver.memcpyHtoDAsync(dst, src, bytes, handle);
    }

    public void copyToHostAsync(long src, MemorySegment dst, long bytes) {
        device.makeCurrent();
        Driver.memcpyDtoHAsync(dst, src, bytes, handle);
    }

    public void copyAsync(long src, long dst, long bytes) {
        device.makeCurrent();
        Driver.memcpyDtoDAsync(dst, src, bytes, handle);
    }

    /** Fills {@code count} 32-bit words (a float's bits, say) at {@code dst}. */
    public void memsetD32Async(long dst, int value, long count) {
        device.makeCurrent();
        Driver.memsetD32Async(dst, value, count, handle);
    }

    public void memsetD8Async(long dst, byte value, long count) {
        device.makeCurrent();
        Driver.memsetD8Async(dst, value, count, handle);
    }

    /**
     * Starts recording the work submitted to this stream into a graph instead of running it. Thread-local mode: other
     * threads may keep using CUDA meanwhile. No cuMemAlloc may happen during capture: the caching allocator's steady
     * state (after one eager warm-up step) satisfies that.
     */
    public void beginCapture() {
        beginCapture(Driver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    }

    /** As {@link #beginCapture()} in the given CU_STREAM_CAPTURE_MODE_* (relaxed lets other API calls, cuMemAlloc, run). */
    public void beginCapture(int mode) {
        device.makeCurrent();
        Driver.streamBeginCapture(handle, mode);
    }

    /** Ends capture and instantiates the recorded graph, ready to {@link CudaGraph#launch(CudaStream)}. */
    public CudaGraph endCapture() {
        device.makeCurrent();
        long graph = Driver.streamEndCapture(handle);
        try {
            return new CudaGraph(device, graph, Driver.graphInstantiate(graph));
        } catch (RuntimeException e) {
            Driver.graphDestroy(graph);
            throw e;
        }
    }

    @Override
    public void close() {
        if (closed || this == device.defaultStream()) return;
        closed = true;
        device.makeCurrent();
        Driver.streamDestroy(handle);
    }

    @Override
    public String toString() { return "CudaStream[" + device + ", 0x" + Long.toHexString(handle) + "]"; }
}
