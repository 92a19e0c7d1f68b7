package io.github.transformers4j.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Turns kernel sources into loaded modules: NVRTC compiles for the device's exact architecture
 * ({@code --gpu-architecture=sm_XX}, a cubin) when NVRTC knows it, else PTX for the newest architecture it knows that the
 * device can run; binaries are cached on disk ({@link KernelCache}) and loaded with cuModuleLoadData.
 */
public final class KernelCompiler {
    /** Resource folder of the kernel sources. */
    public static final String KERNEL_DIR = "/io/github/transformers4j/cuda/kernels/";
    static final List<String> BASE_OPTIONS = List.of("--std=c++17");
    /** Every kernel file of {@link #KERNEL_DIR}, each compiled as one module. */
    public static final List<String> FILES = List.of("copy.cu", "unary.cu", "binary.cu", "reduce.cu", "softmax.cu",
            "layernorm.cu", "index.cu", "random.cu", "conv.cu", "adam.cu", "matmul.cu", "elementwise.cu", "attention.cu");

    private static volatile KernelCompiler shared;

    private final KernelCache cache;
    private final AtomicLong compilations = new AtomicLong();
    private final AtomicLong diskHits = new AtomicLong();
    private int[] supported;

    public KernelCompiler(KernelCache cache) { this.cache = cache; }

    static KernelCompiler shared() {
        KernelCompiler k = shared;
        if (k == null) {
            synchronized (KernelCompiler.class) {
                if (shared == null) shared = new KernelCompiler(KernelCache.fromEnvironment());
                k = shared;
            }
        }
        return k;
    }

    public KernelCache cache() { return cache; }
    /** NVRTC compilations done (cache misses). */
    public long compilations() { return compilations.get(); }
    /** Binaries taken from the disk cache. */
    public long diskHits() { return diskHits.get(); }

    public static String readResource(String resourceName) {
        try (InputStream in = KernelCompiler.class.getResourceAsStream(KERNEL_DIR + resourceName)) {
            if (in == null) throw new IllegalArgumentException("kernel source not found: " + KERNEL_DIR + resourceName);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + resourceName, e);
        }
    }

    public CudaModule load(CudaDevice device, String resourceName) {
        return load(device, resourceName, source(resourceName));
    }

    /**
     * The text NVRTC compiles for a kernel resource: the file with each {@code #include "x.cuh"} line replaced by the
     * resource {@code x.cuh} from the same folder (once per file; NVRTC itself sees no include paths).
     */
    public static String source(String resourceName) {
        StringBuilder out = new StringBuilder();
        java.util.Set<String> seen = new java.util.HashSet<>();
        expand(resourceName, out, seen);
        return out.toString();
    }

    private static void expand(String resourceName, StringBuilder out, java.util.Set<String> seen) {
        for (String line : readResource(resourceName).split("\n", -1)) {
            java.util.regex.Matcher m = INCLUDE.matcher(line);
            if (m.matches()) {
                if (seen.add(m.group(1))) expand(m.group(1), out, seen);
                out.append("// (end of ").append(m.group(1)).append(")\n");
            } else if (!line.trim().equals("#pragma once")) {
                out.append(line).append('\n');
            }
        }
    }

    private static final java.util.regex.Pattern INCLUDE = java.util.regex.Pattern.compile("\\s*#include\\s+\"([^\"]+)\"\\s*");

    /** The compiler target for {@code device}: "sm_90" when NVRTC can build a cubin for it, else "compute_XX". */
    public synchronized String target(CudaDevice device) {
        if (supported == null) supported = Nvrtc.supportedArchs();
        int cc = device.computeMajor() * 10 + device.computeMinor();
        if (Arrays.stream(supported).anyMatch(a -> a == cc)) return "sm_" + cc;
        int best = Arrays.stream(supported).filter(a -> a <= cc).max().orElseThrow(() -> new CudaException(
                "NVRTC " + Nvrtc.versionString() + " supports none of the architectures up to " + device.arch()
                        + " of " + device + "; supported: " + Arrays.toString(supported), null));
        return "compute_" + best;
    }

    public CudaModule load(CudaDevice device, String name, String source) {
        return loadImage(device, name, image(name, source, target(device)).image());
    }

    /** A compiled kernel file: its binary, whether it came from the disk cache, and the milliseconds it took. */
    public record Binary(String name, byte[] image, boolean cached, long millis) {}

    /** The binary of {@code source} for {@code target}, from the disk cache or compiled by NVRTC (and then cached). */
    Binary image(String name, String source, String target) {
        long t0 = System.nanoTime();
        List<String> options = new ArrayList<>(BASE_OPTIONS);
        options.add("--gpu-architecture=" + target);
        String key = KernelCache.key(source, options, target, "nvrtc-" + Nvrtc.versionString());
        String ext = target.startsWith("sm_") ? "cubin" : "ptx";
        byte[] image = cache.load(key, ext).orElse(null);
        boolean cached = image != null;
        if (cached) {
            diskHits.incrementAndGet();
        } else {
            Nvrtc.Result r = Nvrtc.compile(source, name, options);
            compilations.incrementAndGet();
            image = r.image();
            cache.store(key, r.cubin() ? "cubin" : "ptx", image);
        }
        return new Binary(name, image, cached, (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Compiles {@code files} for {@code target} into the disk cache, {@code threads} files at a time, so that the first
     * run on a new machine loads its kernels instead of compiling them one after another as they are first used (on
     * a fresh H100 machine a run's first epoch took 26-32 s, against about 2 s with the kernels cached; side by side the
     * wait is about the largest file's, attention.cu). NVRTC needs no GPU. Returns each file's outcome in the order given.
     */
    public List<Binary> precompile(String target, List<String> files, int threads) {
        if (threads < 1) throw new IllegalArgumentException("precompile: threads must be >= 1, got " + threads);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(threads, Math.max(1, files.size())))) {
            List<java.util.concurrent.Future<Binary>> jobs = new ArrayList<>();
            for (String f : files) jobs.add(pool.submit(() -> image(f, source(f), target)));
            List<Binary> done = new ArrayList<>();
            for (var j : jobs) done.add(j.get());
            return done;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CudaException("precompile interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new CudaException("precompile failed: " + e.getCause(), e.getCause());
        }
    }

    static CudaModule loadImage(CudaDevice device, String name, byte[] image) {
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            // PTX must end with NUL; a cubin ignores the extra byte.
            MemorySegment seg = a.allocate(image.length + 1L, 16);
            MemorySegment.copy(image, 0, seg, ValueLayout.JAVA_BYTE, 0, image.length);
            return new CudaModule(device, name, Driver.moduleLoadData(seg));
        }
    }
}
