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
        String target = target(device);
        List<String> options = new ArrayList<>(BASE_OPTIONS);
        options.add("--gpu-architecture=" + target);
        String key = KernelCache.key(source, options, target, "nvrtc-" + Nvrtc.versionString());
        boolean wantCubin = target.startsWith("sm_");
        String ext = wantCubin ? "cubin" : "ptx";
        byte[] image = cache.load(key, ext).orElse(null);
        if (image != null) {
            diskHits.incrementAndGet();
        } else {
            Nvrtc.Result r = Nvrtc.compile(source, name, options);
            compilations.incrementAndGet();
            image = r.image();
            ext = r.cubin() ? "cubin" : "ptx";
            cache.store(key, ext, image);
        }
        return loadImage(device, name, image);
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
