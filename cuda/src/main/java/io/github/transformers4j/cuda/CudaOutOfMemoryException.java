package io.github.transformers4j.cuda;

/** A device allocation that could not be satisfied even after the caching allocator released its cached blocks. */
public final class CudaOutOfMemoryException extends CudaException {
    private final long requestedBytes;

    public CudaOutOfMemoryException(String message, long requestedBytes) {
        super("cuMemAlloc_v2", 2, message);
        this.requestedBytes = requestedBytes;
    }

    public long requestedBytes() { return requestedBytes; }
}
