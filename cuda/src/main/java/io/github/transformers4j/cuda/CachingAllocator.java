package io.github.transformers4j.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A caching device allocator, one per device. Requests are rounded up to size buckets (see {@link #roundSize(long)});
 * a freed block goes to the free list of its (stream, bucket) and the next request for that bucket on that stream
 * takes it back without a cuMemAlloc. A training loop that allocates the same sizes every step therefore reaches a
 * steady state with no cuMemAlloc/cuMemFree at all (which CUDA graph capture also needs).
 *
 * <p>When cuMemAlloc runs out of memory, the cache is released (after a device synchronize) and the allocation tried
 * once more; then once more after a garbage collection has let unreachable tensors go; if that fails too, a
 * {@link CudaOutOfMemoryException} names the request and the device's free and total memory. Thread-safe.
 */
public final class CachingAllocator {
    static final long MIN_BLOCK = 512;
    static final long MAX_STEP = 32L << 20;

    /** Counters since creation. Bytes are bucket capacities. */
    public record Stats(long requests, long cacheHits, long deviceMallocs, long deviceFrees,
                        long bytesInUse, long bytesCached, long peakBytesInUse) {}

    private record Bucket(long stream, int pool, long capacity) {}

    private final int deviceIndex;
    private final DeviceMemory memory;
    private final Map<Bucket, ArrayDeque<Long>> free = new HashMap<>();
    private long requests, cacheHits, deviceMallocs, deviceFrees, bytesInUse, bytesCached, peakBytesInUse;
    /** The private pool the capturing thread allocates from (0: none), and pools whose graph was closed. */
    private int activePool, lastPool;
    private Thread poolThread;
    private final Set<Integer> closedPools = new HashSet<>();

    public CachingAllocator(int deviceIndex, DeviceMemory memory) {
        this.deviceIndex = deviceIndex;
        this.memory = memory;
    }

    public int deviceIndex() { return deviceIndex; }

    /**
     * The bucket a request of {@code bytes} lands in: at least 512 bytes; above that, rounded up to a quarter of the
     * power of two below it (at most 25% waste), in steps of at least 512 bytes and at most 32 MiB.
     */
    public static long roundSize(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation size: " + bytes);
        if (bytes <= MIN_BLOCK) return MIN_BLOCK;
        long below = Long.highestOneBit(bytes - 1); // below < bytes <= 2 * below
        long step = Math.clamp(below / 4, MIN_BLOCK, MAX_STEP);
        return Math.ceilDiv(bytes, step) * step;
    }

    public DeviceBuffer allocate(long bytes, CudaStream stream) {
        return allocate(bytes, stream.handle());
    }

    /** A block of at least {@code bytes} for use on the stream with handle {@code stream}. */
    public synchronized DeviceBuffer allocate(long bytes, long stream) {
        long capacity = roundSize(bytes);
        requests++;
        int pool = activePool != 0 && Thread.currentThread() == poolThread ? activePool : 0;
        ArrayDeque<Long> list = free.get(new Bucket(stream, pool, capacity));
        if (list != null && !list.isEmpty()) {
            cacheHits++;
            bytesCached -= capacity;
            return handOut(list.pop(), bytes, capacity, stream, pool);
        }
        if (capacity > memory.totalMemory()) throw outOfMemory(bytes, capacity);
        long pointer;
        try {
            pointer = memory.malloc(capacity);
        } catch (CudaException e) {
            if (e.code() != Driver.CUDA_ERROR_OUT_OF_MEMORY) throw e;
            emptyCache();
            try {
                pointer = memory.malloc(capacity);
            } catch (CudaException again) {
                if (again.code() != Driver.CUDA_ERROR_OUT_OF_MEMORY) throw again;
                pointer = afterCollectingGarbage(capacity);
                if (pointer == 0) throw outOfMemory(bytes, capacity);
            }
        }
        deviceMallocs++;
        return handOut(pointer, bytes, capacity, stream, pool);
    }

    /**
     * Graph capture: from now on the calling thread allocates from a new private pool, whose blocks (free or not) are
     * never handed to anyone else while the graph that records them lives (a replay writes to them at any time).
     * Returns the pool's id.
     */
    public synchronized int beginPool() {
        if (activePool != 0) throw new IllegalStateException("allocator: a private pool is already active");
        activePool = ++lastPool;
        poolThread = Thread.currentThread();
        return activePool;
    }

    /** Stops allocating from the private pool (its blocks stay reserved for the graph). */
    public synchronized void endPool() {
        activePool = 0;
        poolThread = null;
    }

    /** The graph of {@code pool} is gone: its cached blocks, and those freed later, go back to the shared cache. */
    public synchronized void releasePool(int pool) {
        if (pool == 0) return;
        closedPools.add(pool);
        for (var e : new ArrayList<>(free.entrySet())) {
            Bucket b = e.getKey();
            if (b.pool() != pool) continue;
            free.remove(b);
            free.computeIfAbsent(new Bucket(b.stream(), 0, b.capacity()), k -> new ArrayDeque<>()).addAll(e.getValue());
        }
    }

    /**
     * Tensors that became unreachable outside any memory scope hold their blocks until the cleaner releases them, and
     * the Java heap may be too quiet for a collection to come by itself: collect, give the cleaner thread the lock for a
     * moment, empty the cache and try once more. 0 when the device is still out of memory.
     */
    private long afterCollectingGarbage(long capacity) {
        long inUse = bytesInUse;
        System.gc();
        try {
            for (int i = 0; i < 10 && bytesInUse == inUse; i++) wait(20); // releases the lock for the cleaner's frees
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (bytesInUse == inUse) return 0;
        emptyCache();
        try {
            return memory.malloc(capacity);
        } catch (CudaException e) {
            if (e.code() != Driver.CUDA_ERROR_OUT_OF_MEMORY) throw e;
            return 0;
        }
    }

    private DeviceBuffer handOut(long pointer, long bytes, long capacity, long stream, int pool) {
        bytesInUse += capacity;
        peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
        return new DeviceBuffer(this, pointer, bytes, capacity, stream, pool);
    }

    /** Returns the block to the cache (no cuMemFree). */
    synchronized void free(DeviceBuffer buffer) {
        buffer.markClosed();
        bytesInUse -= buffer.capacity();
        bytesCached += buffer.capacity();
        int pool = closedPools.contains(buffer.pool()) ? 0 : buffer.pool();
        free.computeIfAbsent(new Bucket(buffer.stream(), pool, buffer.capacity()), b -> new ArrayDeque<>())
                .push(buffer.pointer());
    }

    /** Hands every cached (unused) block back to the driver, after waiting for the device's pending work. */
    public synchronized void emptyCache() {
        if (bytesCached == 0) return;
        memory.synchronize();
        List<Map.Entry<Bucket, ArrayDeque<Long>>> entries = new ArrayList<>(free.entrySet());
        for (var e : entries) {
            if (e.getKey().pool() != 0) continue; // a live graph's private pool
            for (long p : e.getValue()) {
                memory.free(p);
                deviceFrees++;
                bytesCached -= e.getKey().capacity();
            }
            free.remove(e.getKey());
        }
    }

    /** Starts a new peak: {@link Stats#peakBytesInUse} is the bytes in use now until more are handed out. */
    public synchronized void resetPeak() {
        peakBytesInUse = bytesInUse;
    }

    public synchronized Stats stats() {
        return new Stats(requests, cacheHits, deviceMallocs, deviceFrees, bytesInUse, bytesCached, peakBytesInUse);
    }

    private CudaOutOfMemoryException outOfMemory(long bytes, long capacity) {
        long[] info;
        try {
            info = memory.memoryInfo();
        } catch (RuntimeException e) {
            info = new long[] {-1, memory.totalMemory()};
        }
        String msg = String.format(Locale.ROOT,
                "CUDA out of memory on cuda:%d: tried to allocate %d bytes (%s, bucket %d bytes); device has %d bytes "
                        + "(%s) free of %d bytes (%s) total; this allocator holds %s in use and %s cached",
                deviceIndex, bytes, human(bytes), capacity, info[0], human(info[0]), info[1], human(info[1]),
                human(bytesInUse), human(bytesCached));
        return new CudaOutOfMemoryException(msg, bytes);
    }

    static String human(long bytes) {
        if (bytes < 0) return "unknown";
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
