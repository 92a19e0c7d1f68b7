package io.github.transformers4j.tensor.cpu;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Storage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** Off-heap CPU storage (64-byte aligned), recycled through a size-class pool so steady-state steps allocate nothing. */
public final class CpuStorage extends Storage {
    private static final Cleaner CLEANER = Cleaner.create();
    private final MemorySegment segment;
    private final Cleaner.Cleanable cleanable;

    CpuStorage(DType dtype, long numel) {
        super(dtype, numel);
        this.segment = Pool.take(numel * dtype.byteSize());
        MemorySegment seg = segment;
        AtomicBoolean flag = released;
        cleanable = CLEANER.register(this, () -> {
            if (flag.compareAndSet(false, true)) Pool.give(seg);
        });
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    protected void free() {
        Pool.give(segment);
        // unregister now: a cleaner registration left behind lives until a full collection (hundreds per step, they
        // piled up in the old generation, about 0.3 MB/s of heap growth in training)
        cleanable.clean();
    }

    /** The memory; throws if the storage was released. */
    public MemorySegment segment() {
        checkAlive();
        return segment;
    }

    /** Pool statistics, for tests and {@code t4j info}. */
    public static long pooledBytes() {
        return Pool.pooled.get();
    }

    public static long allocatedBytes() {
        return Pool.allocated.get();
    }

    /**
     * Size classes: 4 per power of two (at most 25% slack); whole blocks are reused. Each block has its own shared
     * arena, closed (memory returned to the OS at once, not when the GC gets round to it) when the pool is full.
     * The cap: {@code -Dt4j.cpu.poolBytes}, else a quarter of the heap limit, between 256 MiB and 2 GiB.
     */
    static final class Pool {
        static final long MAX_POOLED = Long.getLong("t4j.cpu.poolBytes",
                Math.max(256L << 20, Math.min(2L << 30, Runtime.getRuntime().maxMemory() / 4)));
        static final ConcurrentHashMap<Long, ConcurrentLinkedDeque<MemorySegment>> FREE = new ConcurrentHashMap<>();
        static final ConcurrentHashMap<MemorySegment, Arena> ARENAS = new ConcurrentHashMap<>();
        static final AtomicLong pooled = new AtomicLong(), allocated = new AtomicLong();

        static long sizeClass(long bytes) {
            if (bytes <= 64) return 64;
            int hb = 63 - Long.numberOfLeadingZeros(bytes - 1); // 2^hb < bytes <= 2^(hb+1)
            long base = 1L << hb, quarter = base / 4;
            long c = base + ((bytes - base + quarter - 1) / quarter) * quarter;
            return (c + 63) & ~63L;
        }

        static MemorySegment take(long bytes) {
            long cls = sizeClass(bytes);
            ConcurrentLinkedDeque<MemorySegment> q = FREE.get(cls);
            MemorySegment s = q == null ? null : q.pollFirst();
            if (s != null) {
                pooled.addAndGet(-cls);
                return s;
            }
            Arena arena = Arena.ofShared();
            try {
                s = arena.allocate(cls, 64);
            } catch (OutOfMemoryError e) {
                trim();
                s = arena.allocate(cls, 64);
            }
            ARENAS.put(s, arena);
            allocated.addAndGet(cls);
            return s;
        }

        static void give(MemorySegment s) {
            long cls = s.byteSize();
            if (pooled.get() + cls > MAX_POOLED) {
                free(s);
                return;
            }
            pooled.addAndGet(cls);
            FREE.computeIfAbsent(cls, k -> new ConcurrentLinkedDeque<>()).addFirst(s);
        }

        private static void free(MemorySegment s) {
            Arena a = ARENAS.remove(s);
            allocated.addAndGet(-s.byteSize());
            if (a != null) a.close();
        }

        /** Returns every pooled block to the operating system. */
        static void trim() {
            for (var q : FREE.values()) {
                for (MemorySegment s; (s = q.pollFirst()) != null; ) {
                    pooled.addAndGet(-s.byteSize());
                    free(s);
                }
            }
        }
    }
}
