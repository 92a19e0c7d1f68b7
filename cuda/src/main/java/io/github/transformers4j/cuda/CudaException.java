package io.github.transformers4j.cuda;

/**
 * A failed call into a CUDA library (driver, NVRTC or cuBLASLt), naming the function, the error code's name and the
 * library's description of it, e.g. {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory}.
 */
public class CudaException extends RuntimeException {
    private final String function;
    private final int code;

    public CudaException(String function, int code, String errorName, String description) {
        this(function, code, function + " failed: " + errorName + " (" + code + "): " + description);
    }

    protected CudaException(String function, int code, String message) {
        super(message);
        this.function = function;
        this.code = code;
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
        this.function = "";
        this.code = -1;
    }

    /** The native function that failed, e.g. {@code cuMemAlloc_v2}; empty when the failure is not one call's. */
    public String function() { return function; }

    /** The library's status code (CUresult, nvrtcResult or cublasStatus_t); -1 when there is none. */
    public int code() { return code; }
}
