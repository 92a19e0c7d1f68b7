package io.github.transformers4j.cuda;

/**
 * Launchers for {@code kernels/elementwise.cu}: the first kernels through NVRTC, and the pattern later ops follow
 * (a module per .cu file, a grid of at most a few waves, grid-stride loops in the kernel).
 */
public final class Elementwise {
    static final String SOURCE = "elementwise.cu";
    static final int BLOCK = 256;

    private Elementwise() {}

    /** Blocks for n elements: enough to cover n, at most 8 blocks per multiprocessor (the loop covers the rest). */
    static int grid(CudaDevice device, long n) {
        long needed = Math.ceilDiv(n, BLOCK);
        return (int) Math.max(1, Math.min(needed, 8L * device.multiprocessors()));
    }

    /** out[i] = a[i] + b[i] for i < n (float32 device pointers). */
    public static void add(CudaStream stream, long a, long b, long out, long n) {
        binary("add_f32", stream, a, b, out, n);
    }

    /** out[i] = a[i] * b[i] for i < n. */
    public static void mul(CudaStream stream, long a, long b, long out, long n) {
        binary("mul_f32", stream, a, b, out, n);
    }

    /** out[i] = value for i < n. */
    public static void fill(CudaStream stream, long out, float value, long n) {
        if (n == 0) return;
        CudaDevice d = stream.device();
        d.function(SOURCE, "fill_f32").launch(stream, grid(d, n), BLOCK, 0, KernelArgs.of().ptr(out).f32(value).i64(n));
    }

    private static void binary(String kernel, CudaStream stream, long a, long b, long out, long n) {
        if (n == 0) return;
        CudaDevice d = stream.device();
        d.function(SOURCE, kernel).launch(stream, grid(d, n), BLOCK, 0, KernelArgs.of().ptr(a).ptr(b).ptr(out).i64(n));
    }
}
