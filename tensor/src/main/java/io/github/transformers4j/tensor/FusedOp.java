package io.github.transformers4j.tensor;

/**
 * The typed key of an optional backend kernel: a fused op (or a capability such as graph capture) that a backend may
 * offer through {@link Backend#kernel(FusedOp, DType)}. The op layer declares the key and the kernel interface next to
 * the op and its reference composite; only the op layer asks for the kernel, and falls back to the composite when the
 * backend offers none. Adding a kernel therefore touches its op, the backend that offers it and its test: not
 * {@code Backend}, layers, models or the profiler (which wraps any kernel it is handed, see bench's ProfilingBackend).
 *
 * @param name the op's name in profiles and messages
 * @param type the kernel interface
 */
public record FusedOp<K>(String name, Class<K> type) {
    public static <K> FusedOp<K> of(String name, Class<K> type) {
        if (!type.isInterface()) throw new IllegalArgumentException("FusedOp " + name + ": kernel type must be an interface, got " + type);
        return new FusedOp<>(name, type);
    }
}
