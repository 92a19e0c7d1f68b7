package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("cuda")
class CachingAllocatorGpuTest {

    @Test
    void steadyStateMakesNoNewDeviceAllocations() {
        CudaDevice d = GpuTests.device();
        CachingAllocator alloc = d.allocator();
        long[] sizes = {4 * 128 * 256, 4 * 128 * 1024, 4 * 1024, 300, 64L << 20, 4 * 128 * 256};
        try (CudaStream s = d.newStream()) {
            for (int warm = 0; warm < 2; warm++) step(s, alloc, sizes);
            var before = alloc.stats();
            for (int i = 0; i < 200; i++) step(s, alloc, sizes);
            var after = alloc.stats();
            assertThat(after.deviceMallocs()).as("cuMemAlloc calls in steady state").isEqualTo(before.deviceMallocs());
            assertThat(after.deviceFrees()).isEqualTo(before.deviceFrees());
            assertThat(after.cacheHits() - before.cacheHits()).isEqualTo(200L * sizes.length);
            System.out.println("allocator stats: " + after);
        }
    }

    private static void step(CudaStream s, CachingAllocator alloc, long[] sizes) {
        List<DeviceBuffer> bufs = new ArrayList<>();
        for (long size : sizes) {
            DeviceBuffer b = alloc.allocate(size, s);
            s.memsetD8Async(b.pointer(), (byte) 1, size); // the memory is real and writable
            bufs.add(b);
        }
        bufs.forEach(DeviceBuffer::close);
    }

    @Test
    void outOfMemoryIsAnErrorNamingRequestedFreeAndTotalBytes() {
        CudaDevice d = GpuTests.device();
        CachingAllocator alloc = d.allocator();
        long petabyte = 1L << 50;
        assertThatThrownBy(() -> d.allocate(petabyte))
                .isInstanceOf(CudaOutOfMemoryException.class)
                .hasMessageContaining("tried to allocate " + petabyte + " bytes")
                .hasMessageContaining("free of " + d.totalMemory() + " bytes");

        // A request the driver itself refuses: more than is free, though less than the device's total. The allocator
        // empties its cache (and lets unreachable tensors go) before it gives up, so count what it holds as free.
        long[] mem = d.memoryInfo();
        long request = Math.min(mem[1], mem[0] + alloc.stats().bytesCached() + (1L << 30));
        long mallocs = alloc.stats().deviceMallocs();
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(CudaOutOfMemoryException.class,
                () -> d.allocate(request));
        System.out.println(e.getMessage());
        assertThat(e.getMessage()).contains("tried to allocate " + request + " bytes").contains(" free of ");
        assertThat(e.requestedBytes()).isEqualTo(request);
        assertThat(alloc.stats().deviceMallocs()).isEqualTo(mallocs);
        try (DeviceBuffer ok = d.allocate(1 << 20)) {
            assertThat(ok.pointer()).isNotZero();
        }
    }
}
