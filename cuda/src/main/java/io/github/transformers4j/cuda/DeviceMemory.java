package io.github.transformers4j.cuda;

/** The raw device memory calls the {@link CachingAllocator} builds on; tests supply a fake. */
public interface DeviceMemory {
    /** cuMemAlloc; throws {@link CudaException} with code {@link Driver#CUDA_ERROR_OUT_OF_MEMORY} when out of memory. */
    long malloc(long bytes);

    void free(long pointer);

    /** {free, total} bytes. */
    long[] memoryInfo();

    long totalMemory();

    /** Waits for all work on the device (before cached blocks are handed back to the driver). */
    void synchronize();
}
