package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("cuda")
class CudaDeviceTest {

    @Test
    void reportsDeviceAndLibraryInformation() {
        CudaDevice d = GpuTests.device();
        assertThat(Cuda.deviceCount()).isPositive();
        assertThat(d.name()).isNotBlank();
        assertThat(d.computeMajor()).isGreaterThanOrEqualTo(5);
        assertThat(d.multiprocessors()).isPositive();
        assertThat(d.totalMemory()).isGreaterThan(1L << 30);
        long[] mem = d.memoryInfo();
        assertThat(mem[1]).isEqualTo(d.totalMemory());
        assertThat(mem[0]).isPositive().isLessThanOrEqualTo(mem[1]);
        assertThat(Driver.driverVersion()).isGreaterThanOrEqualTo(12000);
        assertThat(Nvrtc.version()[0]).isGreaterThanOrEqualTo(12);
        assertThat(CublasLt.version()).isGreaterThanOrEqualTo(120000);
        String info = CudaInfo.describe();
        System.out.println(info);
        assertThat(info).contains(d.name()).contains("compute capability " + d.computeMajor() + "." + d.computeMinor())
                .contains(Cuda.libraries().driver().toString()).contains("NVRTC").contains("cuBLASLt");
    }

    @Test
    void errorsNameTheFunctionAndTheCudaError() {
        GpuTests.device();
        assertThat(Driver.errorName(Driver.CUDA_ERROR_OUT_OF_MEMORY)).isEqualTo("CUDA_ERROR_OUT_OF_MEMORY");
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(CudaException.class,
                () -> Driver.deviceGet(Cuda.deviceCount() + 7));
        assertThat(e.function()).isEqualTo("cuDeviceGet");
        assertThat(e.getMessage()).startsWith("cuDeviceGet failed: CUDA_ERROR_INVALID_DEVICE (101): ");
    }

    @Test
    void copiesRandomDataToTheDeviceAndBack() {
        CudaDevice d = GpuTests.device();
        Random rnd = new Random(1);
        int n = 1_000_003;
        float[] host = GpuTests.randomFloats(rnd, n);
        try (DeviceBuffer a = d.allocate(4L * n); DeviceBuffer b = d.allocate(4L * n)) {
            CudaStream s = d.defaultStream();
            s.memsetD32Async(b.pointer(), Float.floatToRawIntBits(Float.NaN), n); // poison
            d.copyToDevice(host, a.pointer());
            s.copyAsync(a.pointer(), b.pointer(), 4L * n);
            assertThat(d.copyToHostFloats(b.pointer(), n)).isEqualTo(host);

            s.memsetD32Async(b.pointer(), Float.floatToRawIntBits(2.5f), n - 1);
            float[] back = d.copyToHostFloats(b.pointer(), n);
            assertThat(back[0]).isEqualTo(2.5f);
            assertThat(back[n - 2]).isEqualTo(2.5f);
            assertThat(back[n - 1]).isEqualTo(host[n - 1]);
        }
    }

    @Test
    void pinnedBuffersCopyAsynchronously() {
        CudaDevice d = GpuTests.device();
        int n = 1 << 20;
        float[] host = GpuTests.randomFloats(new Random(2), n);
        try (PinnedBuffer in = new PinnedBuffer(d, 4L * n); PinnedBuffer out = new PinnedBuffer(d, 4L * n);
             DeviceBuffer dev = d.allocate(4L * n); CudaStream s = d.newStream()) {
            MemorySegment.copy(host, 0, in.segment(), ValueLayout.JAVA_FLOAT, 0, n);
            out.segment().fill((byte) 0x7f);
            s.copyToDeviceAsync(in.segment(), dev.pointer(), 4L * n);
            s.copyToHostAsync(dev.pointer(), out.segment(), 4L * n);
            s.synchronize();
            assertThat(out.segment().toArray(ValueLayout.JAVA_FLOAT)).isEqualTo(host);
        }
    }

    @Test
    void eventsTimeWorkOnAStream() {
        CudaDevice d = GpuTests.device();
        long bytes = 256L << 20;
        try (DeviceBuffer a = d.allocate(bytes); DeviceBuffer b = d.allocate(bytes); CudaStream s = d.newStream();
             CudaEvent start = d.newEvent(true); CudaEvent end = d.newEvent(true)) {
            s.memsetD32Async(a.pointer(), 1, bytes / 4);
            start.record(s);
            for (int i = 0; i < 10; i++) s.copyAsync(a.pointer(), b.pointer(), bytes);
            end.record(s);
            end.synchronize();
            float ms = end.elapsedSince(start);
            System.out.printf("device-to-device copy: %.1f GB/s (read+write)%n", 2.0 * 10 * bytes / (ms * 1e6));
            assertThat(ms).isPositive();
        }
    }
}
