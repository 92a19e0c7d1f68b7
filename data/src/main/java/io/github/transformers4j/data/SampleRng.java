package io.github.transformers4j.data;

/**
 * A small, fast SplitMix64 generator for the data pipeline. Its numbers are fixed by this code (not by a JDK
 * version), so a shuffle or a random crop is the same on every machine.
 *
 * <p>Random transforms get one generator per sample, derived from {@code (seed, epoch, index)}: what a sample
 * looks like in an epoch depends on nothing else, in particular not on how many loader threads there are or in
 * which order they run. Not thread-safe; one instance belongs to one sample or one shuffle.
 */
public final class SampleRng {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    public SampleRng(long seed) {
        this.state = seed;
    }

    /** The generator for one sample of one epoch. */
    public static SampleRng of(long seed, long epoch, long index) {
        return new SampleRng(mix(mix(mix(seed) ^ epoch) ^ index));
    }

    /** The generator for a whole epoch (shuffles). */
    public static SampleRng forEpoch(long seed, long epoch) {
        return of(seed, epoch, -1L);
    }

    public long nextLong() {
        return mix(state += GOLDEN);
    }

    /** Uniform in {@code [0, bound)}, without modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("nextInt: bound must be positive, got " + bound);
        // Lemire's multiply-shift with rejection on a 32-bit draw.
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** Uniform in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Fisher-Yates permutation of {@code 0..n-1}. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
