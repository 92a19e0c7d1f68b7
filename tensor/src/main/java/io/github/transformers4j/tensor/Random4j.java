package io.github.transformers4j.tensor;

/**
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011). Number {@code i} of a draw depends only on
 * (seed, counter, i), so results are the same whatever the thread count and on every device.
 * Each draw of n numbers consumes ceil(n / 4) counters.
 */
public final class Random4j {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private static Random4j global = new Random4j(0);

    private final long seed;
    private long counter;

    public Random4j(long seed) {
        this(seed, 0);
    }

    public Random4j(long seed, long counter) {
        this.seed = seed;
        this.counter = counter;
    }

    /** The generator used when none is passed. */
    public static synchronized Random4j global() {
        return global;
    }

    public static synchronized void manualSeed(long seed) {
        global = new Random4j(seed);
    }

    public long seed() {
        return seed;
    }

    /** Position of the next draw; with {@link #seed()} it is the whole state (checkpointed by the trainer). */
    public synchronized long counter() {
        return counter;
    }

    public synchronized void setCounter(long counter) {
        this.counter = counter;
    }

    /** Reserves counters for {@code n} numbers and returns the first counter (the draw's offset). */
    public synchronized long reserve(long n) {
        long first = counter;
        counter += (n + 3) / 4;
        Capture.noteDraw(this, first, counter);
        return first;
    }

    /** Advances by {@code blocks} counters (of 4 numbers each) and returns the first (a captured step's replay). */
    synchronized long reserveBlocks(long blocks) {
        long first = counter;
        counter += blocks;
        return first;
    }

    /** Word {@code i % 4} of block {@code offset + i / 4}: the i-th raw 32-bit number of a draw. */
    public static int bits(long seed, long offset, long i) {
        long block = offset + (i >>> 2);
        int c0 = (int) block, c1 = (int) (block >>> 32), c2 = 0, c3 = 0;
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        for (int r = 0; r < 10; r++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c0 = n0;
            c1 = (int) p1;
            c2 = n2;
            c3 = (int) p0;
            k0 += W0;
            k1 += W1;
        }
        return switch ((int) (i & 3)) {
            case 0 -> c0;
            case 1 -> c1;
            case 2 -> c2;
            default -> c3;
        };
    }

    /** Uniform in [0, 1) with 24 random bits (exactly representable as float). */
    public static float uniformFloat(int bits) {
        return (bits >>> 8) * 0x1.0p-24f;
    }

    /** Uniform in (0, 1]: safe for log in Box-Muller. */
    static double uniformOpen(int bits) {
        return ((bits >>> 8) + 1) * 0x1.0p-24;
    }

    /**
     * Standard normal number i of a draw: Box-Muller over the pair of words (i & ~1, i | 1) of the same block,
     * cosine for even i, sine for odd i.
     */
    public static double normal(long seed, long offset, long i) {
        long even = i & ~1L;
        double u1 = uniformOpen(bits(seed, offset, even));
        double u2 = uniformOpen(bits(seed, offset, even + 1));
        double r = Math.sqrt(-2.0 * Math.log(u1));
        double theta = 2.0 * Math.PI * u2;
        return (i & 1) == 0 ? r * Math.cos(theta) : r * Math.sin(theta);
    }
}
