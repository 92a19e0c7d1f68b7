package io.github.transformers4j.cuda;

import java.util.Locale;

/** Text for {@code t4j info}: the GPUs and library versions, or the one-line reason CUDA cannot be used. */
public final class CudaInfo {
    private CudaInfo() {}

    public static String describe() {
        if (!Cuda.isAvailable()) return Cuda.unavailableReason();
        StringBuilder sb = new StringBuilder();
        try {
            var libs = Cuda.libraries();
            int v = Driver.driverVersion();
            sb.append(String.format(Locale.ROOT, "CUDA driver API %d.%d, NVRTC %s, cuBLASLt %s%n",
                    v / 1000, v % 1000 / 10, Nvrtc.versionString(), CublasLt.versionString()));
            for (int i = 0; i < Cuda.deviceCount(); i++) {
                CudaDevice d = Cuda.device(i);
                long[] mem = d.memoryInfo();
                sb.append(String.format(Locale.ROOT, "cuda:%d %s, compute capability %d.%d, %d SMs, %s total, %s free%n",
                        i, d.name(), d.computeMajor(), d.computeMinor(), d.multiprocessors(),
                        CachingAllocator.human(d.totalMemory()), CachingAllocator.human(mem[0])));
            }
            sb.append("libraries: ").append(libs.driver()).append(", ").append(libs.nvrtc()).append(", ")
                    .append(libs.cublasLt());
        } catch (RuntimeException | Error e) {
            sb.append("CUDA error while describing devices: ").append(e.getMessage());
        }
        return sb.toString();
    }
}
