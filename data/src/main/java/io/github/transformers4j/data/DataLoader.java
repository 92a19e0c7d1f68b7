package io.github.transformers4j.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import java.util.stream.IntStream;

/**
 * Batches a dataset, like torch.utils.data.DataLoader.
 *
 * <pre>{@code
 * try (var loader = DataLoader.builder(train, Batch::collate).batchSize(128).shuffle(true).seed(42)
 *         .numWorkers(2).build()) {
 *     for (int epoch = 0; epoch < epochs; epoch++)
 *         for (Batch batch : loader.epoch(epoch)) { ... }
 * }
 * }</pre>
 *
 * <p>Order: with {@code shuffle}, epoch {@code e} visits the samples in the permutation drawn from
 * {@code SampleRng.forEpoch(seed, e)}; samples are read with {@code dataset.get(index, e)}. Worker threads
 * each prepare whole batches (read, transform, collate) up to {@code prefetch} batches ahead, and batches come
 * out in order, so the output does not depend on the number of workers. With {@code numWorkers == 0} batches
 * are made on the calling thread.
 *
 * <p>Length grouping ({@code groupByLength}, Hugging Face's {@code group_by_length}): the permutation is cut into
 * mega-batches of {@code 50 * batchSize} samples, each sorted by length (longest first), then cut into batches, and
 * the full batches are shuffled (the last, partial one stays last). Batches of similar length waste little padding.
 *
 * <p>Threads: one fixed pool per loader, started at the first epoch and stopped by {@link #close()}; epochs
 * reuse it. An epoch abandoned part-way leaves at most {@code prefetch} batches being finished in the background.
 */
public final class DataLoader<T, B> implements AutoCloseable {
    private static final AtomicInteger LOADERS = new AtomicInteger();

    private final Dataset<T> dataset;
    private final Function<List<T>, B> collate;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final int numWorkers;
    private final int prefetch;
    private final IntUnaryOperator lengthOf;
    private final int id = LOADERS.incrementAndGet();
    private ExecutorService pool;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private boolean closed;

    private DataLoader(Builder<T, B> b) {
        this.dataset = b.dataset;
        this.collate = b.collate;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.dropLast = b.dropLast;
        this.numWorkers = b.numWorkers;
        this.prefetch = b.prefetch > 0 ? b.prefetch : 2 * Math.max(1, b.numWorkers);
        this.lengthOf = b.lengthOf;
    }

    public static <T, B> Builder<T, B> builder(Dataset<T> dataset, Function<List<T>, B> collate) {
        return new Builder<>(dataset, collate);
    }

    /** A loader that returns each batch as the list of its samples. */
    public static <T> Builder<T, List<T>> builder(Dataset<T> dataset) {
        return new Builder<>(dataset, List::copyOf);
    }

    public Dataset<T> dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Batches per epoch: {@code n / batchSize} with drop_last, else rounded up. */
    public int numBatches() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The dataset indices epoch {@code epoch} visits, in order (all of them, before drop_last). */
    public int[] order(int epoch) {
        int n = dataset.size();
        SampleRng rng = shuffle ? SampleRng.forEpoch(seed, epoch) : null;
        int[] order;
        if (rng != null) {
            order = rng.permutation(n);
        } else {
            order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
        }
        return lengthOf == null ? order : groupedByLength(order, rng);
    }

    private int[] groupedByLength(int[] order, SampleRng rng) {
        int n = order.length, mega = 50 * batchSize;
        int[] len = new int[n];
        for (int i = 0; i < n; i++) len[i] = lengthOf.applyAsInt(order[i]);
        Integer[] pos = new Integer[n];
        for (int i = 0; i < n; i++) pos[i] = i;
        for (int start = 0; start < n; start += mega) {
            // stable: equal lengths keep their (shuffled) order
            Arrays.sort(pos, start, Math.min(n, start + mega), (a, b) -> Integer.compare(len[b], len[a]));
        }
        int full = n / batchSize;
        int[] batchOrder = rng != null ? rng.permutation(full) : IntStream.range(0, full).toArray();
        int[] out = new int[n];
        int k = 0;
        for (int b : batchOrder) for (int i = 0; i < batchSize; i++) out[k++] = order[pos[b * batchSize + i]];
        for (int i = full * batchSize; i < n; i++) out[k++] = order[pos[i]];
        return out;
    }

    /** One pass over the data; each call to {@code iterator()} starts the pass again. */
    public Iterable<B> epoch(int epoch) {
        return epoch(epoch, 0);
    }

    /**
     * The pass from batch {@code skip} on: the batches a whole pass gives after its first {@code skip}, without making
     * those (a run resumed mid-epoch goes on with the same batches).
     */
    public Iterable<B> epoch(int epoch, int skip) {
        if (skip < 0 || skip > numBatches())
            throw new IllegalArgumentException("DataLoader: cannot skip " + skip + " of the " + numBatches() + " batches of an epoch");
        return () -> new EpochIterator(epoch, skip);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (pool != null) {
            pool.shutdownNow();
            try {
                if (!pool.awaitTermination(10, TimeUnit.SECONDS))
                    throw new IllegalStateException("DataLoader: worker threads did not stop within 10 s");
                // the pool is terminated once its workers leave their loops; wait until the threads have ended too
                for (Thread t : threads) t.join(10_000);
                threads.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pool = null;
        }
    }

    private synchronized ExecutorService pool() {
        if (closed) throw new IllegalStateException("DataLoader: used after close()");
        if (pool == null && numWorkers > 0) {
            AtomicInteger n = new AtomicInteger();
            pool = Executors.newFixedThreadPool(numWorkers, r -> {
                Thread t = new Thread(r, "t4j-data-" + id + "-worker-" + n.incrementAndGet());
                t.setDaemon(true);
                threads.add(t);
                return t;
            });
        }
        return pool;
    }

    private B makeBatch(int[] order, int batch, int epoch) {
        int start = batch * batchSize;
        int end = Math.min(start + batchSize, order.length);
        List<T> samples = new ArrayList<>(end - start);
        for (int i = start; i < end; i++) samples.add(dataset.get(order[i], epoch));
        return collate.apply(samples);
    }

    private final class EpochIterator implements Iterator<B> {
        private final int epoch;
        private final int[] order;
        private final int batches = numBatches();
        private final ExecutorService workers = pool();
        private final ArrayDeque<Future<B>> pending = new ArrayDeque<>();
        private int submitted;
        private int returned;

        EpochIterator(int epoch, int skip) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.submitted = this.returned = skip;
            if (workers != null) while (submitted < batches && submitted < skip + prefetch) submit();
        }

        private void submit() {
            int b = submitted++;
            pending.add(workers.submit(() -> makeBatch(order, b, epoch)));
        }

        @Override
        public boolean hasNext() {
            return returned < batches;
        }

        @Override
        public B next() {
            if (!hasNext()) throw new NoSuchElementException("DataLoader: epoch " + epoch + " has " + batches + " batches");
            int b = returned++;
            if (workers == null) return makeBatch(order, b, epoch);
            Future<B> f = pending.poll();
            if (submitted < batches) submit();
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pending.forEach(p -> p.cancel(true));
                throw new IllegalStateException("DataLoader: interrupted while waiting for batch " + b, e);
            } catch (ExecutionException e) {
                pending.forEach(p -> p.cancel(true));
                throw new IllegalStateException("DataLoader: batch " + b + " of epoch " + epoch + " failed: "
                        + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    public static final class Builder<T, B> {
        private final Dataset<T> dataset;
        private final Function<List<T>, B> collate;
        private int batchSize = 1;
        private boolean shuffle;
        private long seed;
        private boolean dropLast;
        private int numWorkers;
        private int prefetch;
        private IntUnaryOperator lengthOf;

        private Builder(Dataset<T> dataset, Function<List<T>, B> collate) {
            this.dataset = dataset;
            this.collate = collate;
        }

        public Builder<T, B> batchSize(int batchSize) {
            if (batchSize <= 0) throw new IllegalArgumentException("DataLoader: batchSize must be positive, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        public Builder<T, B> shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        public Builder<T, B> seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder<T, B> dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Threads that prepare batches ahead; 0 prepares them on the calling thread. */
        public Builder<T, B> numWorkers(int numWorkers) {
            if (numWorkers < 0) throw new IllegalArgumentException("DataLoader: numWorkers must be >= 0, got " + numWorkers);
            this.numWorkers = numWorkers;
            return this;
        }

        /** Batches in flight ahead of the consumer (default {@code 2 * numWorkers}). */
        public Builder<T, B> prefetch(int prefetch) {
            if (prefetch < 0) throw new IllegalArgumentException("DataLoader: prefetch must be >= 0, got " + prefetch);
            this.prefetch = prefetch;
            return this;
        }

        /**
         * Batches of samples of similar length (see the class comment); {@code lengthOf} maps a dataset index to its
         * length (any cheap proxy: characters, tokens).
         */
        public Builder<T, B> groupByLength(IntUnaryOperator lengthOf) {
            this.lengthOf = lengthOf;
            return this;
        }

        public DataLoader<T, B> build() {
            return new DataLoader<>(this);
        }
    }
}
