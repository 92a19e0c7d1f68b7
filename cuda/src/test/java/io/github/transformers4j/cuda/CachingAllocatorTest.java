package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CachingAllocatorTest {
    /** A device with {@code total} bytes that hands out fake addresses and counts calls. */
    static class FakeDevice implements DeviceMemory {
        final long total;
        long used, next = 1L << 20, mallocs, frees, syncs;
        final Set<Long> live = new HashSet<>();

        FakeDevice(long total) { this.total = total; }

        @Override public long malloc(long bytes) {
            if (used + bytes > total) throw new CudaException("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
            long p = next;
            next += bytes + 4096;
            used += bytes;
            mallocs++;
            live.add(p);
            sizes.put(p, bytes);
            return p;
        }
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();
        @Override public void free(long pointer) {
            assertThat(live.remove(pointer)).as("free of a live pointer").isTrue();
            used -= sizes.remove(pointer);
            frees++;
        }
        @Override public long[] memoryInfo() { return new long[] {total - used, total}; }
        @Override public long totalMemory() { return total; }
        @Override public void synchronize() { syncs++; }
    }

    @Test
    void roundsToBucketsOfAtMostAQuarterWaste() {
        assertThat(CachingAllocator.roundSize(0)).isEqualTo(512);
        assertThat(CachingAllocator.roundSize(1)).isEqualTo(512);
        assertThat(CachingAllocator.roundSize(512)).isEqualTo(512);
        assertThat(CachingAllocator.roundSize(513)).isEqualTo(1024);
        assertThat(CachingAllocator.roundSize(1025)).isEqualTo(1536);
        assertThat(CachingAllocator.roundSize(1 << 20)).isEqualTo(1 << 20);
        assertThat(CachingAllocator.roundSize((1 << 20) + 1)).isEqualTo((1 << 20) + (1 << 18));
        assertThat(CachingAllocator.roundSize(3_000_000)).isEqualTo(3 * (1 << 20));
        // Above 128 MiB the step is capped at 32 MiB.
        long gib = 1L << 30;
        assertThat(CachingAllocator.roundSize(gib + 1)).isEqualTo(gib + (32L << 20));
        for (long b = 1; b < 50_000_000; b = b * 3 + 7) {
            long r = CachingAllocator.roundSize(b);
            assertThat(r).isGreaterThanOrEqualTo(b);
            assertThat(r % 512).isZero();
            if (b > 2048) assertThat((double) (r - b) / b).isLessThanOrEqualTo(0.25);
        }
        assertThatThrownBy(() -> CachingAllocator.roundSize(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void steadyStateReusesBlocksWithoutDeviceCalls() {
        var dev = new FakeDevice(1L << 34);
        var alloc = new CachingAllocator(0, dev);
        long[] sizes = {100, 4096, 1 << 20, 3_000_000, 123, 123};
        for (int warm = 0; warm < 2; warm++) step(alloc, sizes, 7);
        var before = alloc.stats();
        assertThat(before.deviceMallocs()).isEqualTo(6);
        for (int i = 0; i < 100; i++) step(alloc, sizes, 7);
        var after = alloc.stats();
        assertThat(dev.mallocs).isEqualTo(6);
        assertThat(after.deviceMallocs()).isEqualTo(before.deviceMallocs());
        assertThat(after.deviceFrees()).isZero();
        assertThat(after.cacheHits() - before.cacheHits()).isEqualTo(100L * sizes.length);
        assertThat(after.requests()).isEqualTo(102L * sizes.length);
        assertThat(after.bytesInUse()).isZero();
        assertThat(after.bytesCached()).isEqualTo(dev.used);
    }

    /** Allocates every size (all alive at once: distinct pointers), then frees them. */
    private static void step(CachingAllocator alloc, long[] sizes, long stream) {
        List<DeviceBuffer> bufs = new ArrayList<>();
        for (long s : sizes) bufs.add(alloc.allocate(s, stream));
        assertThat(bufs.stream().map(DeviceBuffer::pointer).distinct()).hasSize(sizes.length);
        for (var b : bufs) assertThat(b.capacity()).isGreaterThanOrEqualTo(b.bytes());
        bufs.forEach(DeviceBuffer::close);
    }

    @Test
    void peakIsTheMostBytesInUseSinceTheLastReset() {
        var alloc = new CachingAllocator(0, new FakeDevice(1L << 30));
        DeviceBuffer a = alloc.allocate(1 << 20, 0), b = alloc.allocate(2 << 20, 0);
        b.close();
        assertThat(alloc.stats().peakBytesInUse()).isEqualTo(3L << 20);
        alloc.resetPeak(); // a (1 MiB) still in use
        assertThat(alloc.stats().peakBytesInUse()).isEqualTo(1L << 20);
        DeviceBuffer c = alloc.allocate(1 << 19, 0);
        c.close();
        assertThat(alloc.stats().peakBytesInUse()).isEqualTo((1L << 20) + (1L << 19));
        a.close();
        assertThat(alloc.stats().peakBytesInUse()).isEqualTo((1L << 20) + (1L << 19));
    }

    @Test
    void blocksAreNotSharedAcrossStreams() {
        var dev = new FakeDevice(1L << 30);
        var alloc = new CachingAllocator(0, dev);
        alloc.allocate(4096, 1).close();
        DeviceBuffer other = alloc.allocate(4096, 2);
        assertThat(dev.mallocs).isEqualTo(2);
        DeviceBuffer same = alloc.allocate(4000, 1); // same bucket as 4096 on stream 1
        assertThat(dev.mallocs).isEqualTo(2);
        assertThat(same.pointer()).isNotEqualTo(other.pointer());
        assertThat(alloc.stats().cacheHits()).isEqualTo(1);
    }

    @Test
    void doubleFreeIsAnError() {
        var alloc = new CachingAllocator(3, new FakeDevice(1 << 20));
        DeviceBuffer b = alloc.allocate(10, 0);
        b.close();
        assertThatThrownBy(b::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("cuda:3")
                .hasMessageContaining("freed twice");
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetriesOnce() {
        var dev = new FakeDevice(10L << 20);
        var alloc = new CachingAllocator(0, dev);
        alloc.allocate(4L << 20, 0).close();
        alloc.allocate(4L << 20, 1).close(); // 8 MiB cached on two streams
        DeviceBuffer big = alloc.allocate(6L << 20, 0); // fits only once the cache is released
        assertThat(big.capacity()).isEqualTo(6L << 20);
        assertThat(dev.frees).isEqualTo(2);
        assertThat(dev.syncs).isEqualTo(1);
        assertThat(alloc.stats().bytesCached()).isZero();
    }

    @Test
    void outOfMemoryNamesRequestAndDeviceMemory() {
        var dev = new FakeDevice(10L << 20);
        var alloc = new CachingAllocator(1, dev);
        DeviceBuffer held = alloc.allocate(8L << 20, 0);
        assertThatThrownBy(() -> alloc.allocate(4L << 20, 0))
                .isInstanceOf(CudaOutOfMemoryException.class)
                .hasMessageContaining("cuda:1")
                .hasMessageContaining("tried to allocate 4194304 bytes")
                .hasMessageContaining((2L << 20) + " bytes (2.00 MiB) free of " + (10L << 20) + " bytes");
        // Larger than the device: refused without calling cuMemAlloc.
        long mallocs = dev.mallocs;
        assertThatThrownBy(() -> alloc.allocate(1L << 50, 0)).isInstanceOf(CudaOutOfMemoryException.class)
                .hasMessageContaining("1125899906842624 bytes (1.00 PiB");
        assertThat(dev.mallocs).isEqualTo(mallocs);
        held.close();
        assertThat(alloc.allocate(4L << 20, 0).pointer()).isNotZero();
    }

    @Test
    void otherDriverErrorsPassThrough() {
        var dev = new FakeDevice(1 << 30) {
            @Override public long malloc(long bytes) {
                throw new CudaException("cuMemAlloc_v2", 201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context");
            }
        };
        var alloc = new CachingAllocator(0, dev);
        assertThatThrownBy(() -> alloc.allocate(10, 0)).isInstanceOf(CudaException.class)
                .isNotInstanceOf(CudaOutOfMemoryException.class).hasMessageContaining("CUDA_ERROR_INVALID_CONTEXT");
    }
}
