package io.github.transformers4j.cuda;

import java.lang.foreign.MemorySegment;

/** One kernel of a loaded module. */
public final class CudaFunction {
    /** CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: needed for more than 48 KB of dynamic shared memory. */
    public static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    private static final java.util.concurrent.atomic.LongAdder LAUNCHES = new java.util.concurrent.atomic.LongAdder();

    private final CudaDevice device;
    private final String name;
    private final long handle;

    CudaFunction(CudaDevice device, String name, long handle) {
        this.device = device;
        this.name = name;
        this.handle = handle;
    }

    public String name() { return name; }

    /** Kernel launches since start, over all functions (for counting launches per training step). */
    public static long launches() { return LAUNCHES.sum(); }
    public long handle() { return handle; }

    public void setAttribute(int attribute, int value) {
        device.makeCurrent();
        Driver.funcSetAttribute(handle, attribute, value);
    }

    /** A 1-D launch: {@code grid} blocks of {@code block} threads. */
    public void launch(CudaStream stream, int grid, int block, int sharedMemBytes, KernelArgs args) {
        launch(stream, grid, 1, 1, block, 1, 1, sharedMemBytes, args);
    }

    public void launch(CudaStream stream, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedMemBytes, KernelArgs args) {
        if (stream.device() != device) {
            throw new IllegalArgumentException("kernel " + name + " of " + device + " launched on a stream of "
                    + stream.device());
        }
        device.makeCurrent();
        int n = args.size();
        if (n > KernelArgs.MAX || args.valueBytes() > KernelArgs.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("kernel " + name + ": " + n + " arguments of " + args.valueBytes()
                    + " bytes, at most " + KernelArgs.MAX + " and " + KernelArgs.MAX_VALUE_BYTES);
        }
        try {
            // Scratch layout: pointers to the values, then the values (cuLaunchKernel copies both).
            MemorySegment scratch = Scratch.get();
            MemorySegment pointers = scratch.asSlice(0, 8L * KernelArgs.MAX);
            MemorySegment values = scratch.asSlice(8L * KernelArgs.MAX, KernelArgs.MAX_VALUE_BYTES);
            args.writeTo(values, pointers);
            Driver.launchKernel(handle, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream.handle(),
                    pointers);
            LAUNCHES.increment();
        } catch (CudaException e) {
            throw new CudaException("launching kernel " + name + " grid (" + gridX + "," + gridY + "," + gridZ
                    + ") block (" + blockX + "," + blockY + "," + blockZ + ") shared " + sharedMemBytes + ": "
                    + e.getMessage(), e);
        }
    }
}
