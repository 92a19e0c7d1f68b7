package io.github.transformers4j.tensor.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Data-parallel loops for CPU kernels. The caller works on chunks itself while {@code threads() - 1} helper threads
 * take the rest; helpers spin briefly between calls before parking, because training runs many short kernels back
 * to back and waking a parked thread costs more than most of them. Kernels only ever combine values inside one
 * chunk in a fixed order, so results do not depend on the thread count.
 * Thread count: {@code T4J_NUM_THREADS} (environment) or {@code -Dt4j.threads}, else all processors.
 */
public final class Parallel {
    /** A body over the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(int start, int end);
    }

    private static final int THREADS = configuredThreads();
    private static final long SPIN_NANOS = 1_000_000;
    private static final int CHUNKS_PER_THREAD = 32;
    private static final ThreadLocal<boolean[]> INSIDE = ThreadLocal.withInitial(() -> new boolean[1]);
    private static final Pool POOL = THREADS > 1 ? new Pool(THREADS - 1) : null;

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
     * Runs {@code body} over {@code [0, n)} in chunks of at least {@code grain} items. Runs inline when the range is
     * small, with one thread, inside another parallel region (no nesting), or while another thread holds the pool.
     */
    public static void forRange(int n, int grain, Range body) {
        if (n <= 0) return;
        grain = Math.max(1, grain);
        boolean[] inside = INSIDE.get();
        if (POOL == null || n <= grain || inside[0] || !POOL.lock.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            // Many small chunks, taken in turn: with a few coarse ones, a 34-task product cut into 7 chunks ran 4 on one
            // thread and 3 on the other (about 15% of a vit-mini-p4 step had the helper idle, JFR, 2026-12-08).
            // Chunk boundaries stay on multiples of the grain (whole vectors for the elementwise loops, no extra tails).
            long units = (n + (long) grain - 1) / grain, perChunk = (units + THREADS * CHUNKS_PER_THREAD - 1) / (THREADS * CHUNKS_PER_THREAD);
            Job job = new Job(body, n, (int) Math.min(n, perChunk * grain));
            POOL.publish(job);
            inside[0] = true;
            try {
                job.work();
            } finally {
                inside[0] = false;
            }
            job.awaitDone();
        } finally {
            POOL.lock.unlock();
        }
    }

    private static final class Job {
        final Range body;
        final int n, chunks, step;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable error;

        Job(Range body, int n, int step) {
            this.body = body;
            this.n = n;
            this.step = step;
            this.chunks = (n + step - 1) / step;
        }

        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                int start = c * step, end = Math.min(n, start + step);
                try {
                    if (start < end) body.run(start, end);
                } catch (Throwable t) {
                    error = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void awaitDone() {
            while (done.get() < chunks) Thread.onSpinWait();
            Throwable t = error;
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            if (t != null) throw new RuntimeException(t);
        }
    }

    private static final class Pool {
        final ReentrantLock lock = new ReentrantLock();
        final Thread[] workers;
        volatile Job job;
        volatile long generation;

        Pool(int size) {
            workers = new Thread[size];
            for (int i = 0; i < size; i++) {
                workers[i] = Thread.ofPlatform().daemon().name("t4j-cpu-" + (i + 1)).start(this::loop);
            }
        }

        void publish(Job j) {
            job = j;
            generation++; // single publisher (under lock)
            for (Thread w : workers) LockSupport.unpark(w);
        }

        private void loop() {
            INSIDE.get()[0] = true;
            long seen = 0;
            while (true) {
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (generation == seen) {
                    if (System.nanoTime() < spinUntil) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                }
                seen = generation;
                Job j = job;
                if (j != null) j.work();
            }
        }
    }
}
