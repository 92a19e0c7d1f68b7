package io.github.transformers4j.cuda;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Storage;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tensor storage in device memory: a {@link DeviceBuffer} of the device's caching allocator. Releasing it (memory scope,
 * explicit release, or the cleaner when it became unreachable, on the cleaner's thread) returns the block to the
 * allocator's cache for the default stream; kernels already queued that still read it finish first, since every later
 * use of the block is queued behind them on that stream.
 */
public final class CudaStorage extends Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final DeviceBuffer buffer;
    private final Cleaner.Cleanable cleanable;

    CudaStorage(Device device, DType dtype, long numel, DeviceBuffer buffer) {
        super(dtype, numel);
        this.device = device;
        this.buffer = buffer;
        AtomicBoolean flag = released;
        cleanable = CLEANER.register(this, () -> {
            if (flag.compareAndSet(false, true)) buffer.close();
        });
    }

    @Override
    public Device device() { return device; }

    /** Returns the block and unregisters the cleaner (its action sees the storage released and does nothing). */
    @Override
    protected void free() {
        buffer.close();
        cleanable.clean();
    }

    /** The device address of element 0; throws if the storage was released. */
    public long pointer() {
        checkAlive();
        return buffer.pointer();
    }

    /** The allocator's block (for diagnostics). */
    public DeviceBuffer buffer() { return buffer; }
}
