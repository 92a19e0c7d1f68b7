package io.github.transformers4j.tensor;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A backend-owned buffer of {@code numel} elements of {@code dtype}. Released either by the memory scope it was
 * allocated in, explicitly, or (for storage outside any scope) when it becomes unreachable. Using a tensor whose
 * storage was released throws {@link IllegalStateException}; the memory itself is pooled, never unmapped under you.
 */
public abstract class Storage {
    protected final DType dtype;
    protected final long numel;
    /** Shared with the cleaner action so release happens exactly once. */
    protected final AtomicBoolean released = new AtomicBoolean();
    volatile boolean kept;
    private static final java.util.concurrent.atomic.AtomicLong SERIALS = new java.util.concurrent.atomic.AtomicLong();
    /** Allocation order: autograd adopts as a leaf's gradient only storage made during its backward pass. */
    final long serial = SERIALS.incrementAndGet();
    /** Bumped by every in-place write through Tensor's in-place methods and the optimizers: invalidates cached casts. */
    volatile long version;

    protected Storage(DType dtype, long numel) {
        this.dtype = dtype;
        this.numel = numel;
    }

    /** The serial the next storage will get. */
    static long nextSerial() {
        return SERIALS.get() + 1;
    }

    public abstract Device device();

    public DType dtype() {
        return dtype;
    }

    public long numel() {
        return numel;
    }

    public long byteSize() {
        return numel * dtype.byteSize();
    }

    public boolean isReleased() {
        return released.get();
    }

    /** Returns the memory to its backend's pool. Idempotent. */
    public final void release() {
        if (released.compareAndSet(false, true)) free();
    }

    protected abstract void free();

    protected final void checkAlive() {
        if (released.get()) {
            throw new IllegalStateException("tensor storage (" + dtype + ", " + numel + " elements on " + device()
                    + ") was used after it was released: its Memory.scope() closed; call keep() on tensors that must outlive the scope");
        }
    }
}
