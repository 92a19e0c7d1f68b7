package io.github.transformers4j.cuda;

/** A CUDA event: a point in a stream to wait for or to time from. */
public final class CudaEvent implements AutoCloseable {
    private final CudaDevice device;
    private final long handle;
    private boolean closed;

    CudaEvent(CudaDevice device, long handle) {
        this.device = device;
        this.handle = handle;
    }

    public long handle() { return handle; }

    public void record(CudaStream stream) {
        device.makeCurrent();
        Driver.eventRecord(handle, stream.handle());
    }

    public void synchronize() {
        device.makeCurrent();
        Driver.eventSynchronize(handle);
    }

    /** Milliseconds from {@code start} to this event; both recorded and complete, both created with timing. */
    public float elapsedSince(CudaEvent start) {
        device.makeCurrent();
        return Driver.eventElapsedTime(start.handle, handle);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        Driver.eventDestroy(handle);
    }
}
