package io.github.transformers4j.tensor;

/** Random tensors from {@link Random4j}: the draw's offset is reserved on the host, numbers are made on the device. */
final class Random {
    private Random() {}

    static Tensor fill(Backend.Distribution kind, Random4j rng, DType dtype, int[] shape, double a, double b) {
        return fill(kind, rng, dtype, Device.CPU, shape, a, b);
    }

    /** Made on {@code device} itself: the same numbers as on the CPU for the same generator state. */
    static Tensor fill(Backend.Distribution kind, Random4j rng, DType dtype, Device device, int[] shape, double a, double b) {
        Tensor t = Tensor.empty(dtype, device, shape);
        long offset = rng.reserve(t.numel());
        t.backend().random(t, kind, rng.seed(), offset, a, b);
        return t;
    }

    /** Fisher-Yates over one draw of n numbers: position i swaps with a uniform j in [0, i]. */
    static Tensor randperm(Random4j rng, int n) {
        long offset = rng.reserve(n);
        long[] perm = new long[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            long bits = Random4j.bits(rng.seed(), offset, i) & 0xFFFFFFFFL;
            int j = (int) ((bits * (i + 1)) >>> 32);
            long tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        return Tensor.ofLongs(perm, n);
    }
}
