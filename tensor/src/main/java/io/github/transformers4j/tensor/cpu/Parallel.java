package io.github.transformers4j.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Data-parallel loops for CPU kernels. The work split depends only on {@code n} and {@code grain},
 * never on the thread count, so kernels that reduce within a chunk stay bit-for-bit deterministic.
 * Thread count: {@code T4J_NUM_THREADS} (environment) or {@code -Dt4j.threads}, else all processors.
 */
public final class Parallel {
    /** A body over the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(int start, int end);
    }

    private static final int THREADS = configuredThreads();
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    private static int configuredThreads() {
        String s = System.getProperty("t4j.threads", System.getenv("T4J_NUM_THREADS"));
        if (s != null && !s.isBlank()) {
            try {
                return Math.max(1, Integer.parseInt(s.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("T4J_NUM_THREADS must be a positive integer, got '" + s + "'");
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks of at least {@code grain} items. Runs inline when the
     * range is small, when there is one thread, or when already inside a parallel region (no nesting).
     */
    public static void forRange(int n, int grain, Range body) {
        if (n <= 0) return;
        grain = Math.max(1, grain);
        if (POOL == null || n <= grain || java.util.concurrent.ForkJoinTask.getPool() == POOL) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min((n + grain - 1) / grain, THREADS * 4);
        int step = (n + chunks - 1) / chunks;
        POOL.invoke(new Split(body, 0, n, step));
    }

    private static final class Split extends RecursiveAction {
        private final Range body;
        private final int start, end, step;

        Split(Range body, int start, int end, int step) {
            this.body = body;
            this.start = start;
            this.end = end;
            this.step = step;
        }

        @Override
        protected void compute() {
            if (end - start <= step) {
                body.run(start, end);
                return;
            }
            int chunks = (end - start + step - 1) / step;
            int mid = start + (chunks / 2) * step;
            invokeAll(new Split(body, start, mid, step), new Split(body, mid, end, step));
        }
    }
}
