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
            String release = driverRelease();
            sb.append(String.format(Locale.ROOT, "%sCUDA driver API %d.%d, NVRTC %s, cuBLASLt %s%n",
                    release == null ? "" : "NVIDIA driver " + release + ", ", v / 1000, v % 1000 / 10, Nvrtc.versionString(),
                    CublasLt.versionString()));
            for (int i = 0; i < Cuda.deviceCount(); i++) {
                CudaDevice d = Cuda.device(i);
                long[] mem = d.memoryInfo();
                sb.append(String.format(Locale.ROOT, "cuda:%d %s, compute capability %d.%d, %d SMs, %s total, %s free%n",
                        i, d.name(), d.computeMajor(), d.computeMinor(), d.multiprocessors(),
                        CachingAllocator.human(d.totalMemory()), CachingAllocator.human(mem[0])));
            }
            sb.append("libraries: ").append(libs.driver()).append(", ").append(libs.nvrtc()).append(", ")
                    .append(libs.cublasLt()).append(System.lineSeparator());
            String noCudnn = Cudnn.unavailableReason();
            sb.append(noCudnn != null ? noCudnn + " (attention runs on the own flash kernels)"
                    : "cuDNN " + Cudnn.versionString() + (CudnnAttention.enabled() ? ": fused attention for " + CudnnAttention.minKeys()
                    + " keys or more" : ": fused attention switched off"));
        } catch (RuntimeException | Error e) {
            sb.append("CUDA error while describing devices: ").append(e.getMessage());
        }
        return sb.toString();
    }

    /**
     * Compiles every kernel file for the architectures of this machine's GPUs into the kernel cache, {@code threads}
     * files at a time ({@code t4j info --compile-kernels}); one line per file and a total.
     */
    public static String compileKernels(int threads) {
        if (!Cuda.isAvailable()) return "no kernels compiled: " + Cuda.unavailableReason();
        KernelCompiler compiler = KernelCompiler.shared();
        java.util.Set<String> targets = new java.util.LinkedHashSet<>();
        for (int i = 0; i < Cuda.deviceCount(); i++) targets.add(compiler.target(Cuda.device(i)));
        StringBuilder sb = new StringBuilder();
        for (String target : targets) {
            long t0 = System.nanoTime();
            var done = compiler.precompile(target, KernelCompiler.FILES, threads);
            for (var b : done)
                sb.append(String.format(Locale.ROOT, "%-14s %s %,10d bytes  %6d ms%n", b.name(), b.cached() ? "cached  " : "compiled",
                        b.image().length, b.millis()));
            sb.append(String.format(Locale.ROOT, "%d kernel files for %s with NVRTC %s in %.1f s (%d compiled, %d threads) into %s%n",
                    done.size(), target, Nvrtc.versionString(), (System.nanoTime() - t0) / 1e9,
                    done.stream().filter(b -> !b.cached()).count(), threads,
                    compiler.cache().dir().map(Object::toString).orElse("no cache (T4J_KERNEL_CACHE=off): nothing kept")));
        }
        return sb.toString();
    }

    /** The kernel driver's release (e.g. 580.159.04) from /proc/driver/nvidia/version, or null where it cannot be read. */
    static String driverRelease() {
        try {
            String text = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/driver/nvidia/version"));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Kernel Module(?: for [^ ]+)?\\s+([0-9][0-9.]+)").matcher(text);
            return m.find() ? m.group(1) : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }
}
