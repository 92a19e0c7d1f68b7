package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Compiles every kernel file ({@code kernels/*.cu}, as {@link KernelCompiler#source} assembles it) with NVRTC for the
 * H100's sm_90, with the options {@link KernelCompiler} uses. No GPU is needed: NVRTC is a library. Not tagged "cuda",
 * so it runs in CI, where {@code .ci/run} installs NVRTC and sets {@code T4J_CUDA_LIB_PATH} and
 * {@code T4J_REQUIRE_NVRTC=1}. Without NVRTC the test is skipped, or fails when {@code T4J_REQUIRE_NVRTC=1}.
 */
class KernelsCompileTest {
    /** The architecture the kernels are built for on the GPU machine (H100). */
    static final int ARCH = 90;

    private static String target;
    private static String missing;

    /**
     * Skips the calling test (or, with T4J_REQUIRE_NVRTC=1, fails it) when no NVRTC is found; else picks the target
     * once and prints it.
     */
    static synchronized void requireNvrtc() {
        if (target == null && missing == null) {
            Optional<Path> lib = CudaLibraries.fromEnvironment().find(CudaLibraries.NVRTC);
            if (lib.isEmpty()) {
                missing = "no NVRTC library (" + String.join(" or ", CudaLibraries.NVRTC.fileNames())
                        + ") in T4J_CUDA_LIB_PATH, LD_LIBRARY_PATH, the CUDA/system folders or Python nvidia/*/lib;"
                        + " .ci/run installs one (cuda/NOTES.md, \"Compile-checking kernels without a GPU\")";
                System.out.println("KernelsCompileTest: skipped: " + missing);
            } else {
                int[] archs = Nvrtc.supportedArchs();
                target = Arrays.stream(archs).anyMatch(a -> a == ARCH) ? "sm_" + ARCH : "compute_" + ARCH;
                System.out.println("KernelsCompileTest: NVRTC " + Nvrtc.versionString() + " (" + lib.get()
                        + "), target " + target + ", supported architectures " + Arrays.toString(archs));
            }
        }
        if (missing != null) {
            if ("1".equals(System.getenv("T4J_REQUIRE_NVRTC"))) fail("T4J_REQUIRE_NVRTC=1 but " + missing);
            assumeTrue(false, missing);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyKernelFileCompiles() throws IOException {
        List<String> files = kernelFiles();
        assertThat(files).as("kernel files found in %s", KernelCompiler.KERNEL_DIR)
                .containsExactlyInAnyOrderElementsOf(KernelCompiler.FILES);
        System.out.println("KernelsCompileTest: " + files.size() + " kernel files: " + files);
        return files.stream().map(f -> dynamicTest(f, () -> {
            requireNvrtc();
            compile(f);
        }));
    }

    private static void compile(String file) {
        String source = KernelCompiler.source(file);
        List<String> options = new ArrayList<>(KernelCompiler.BASE_OPTIONS);
        options.add("--gpu-architecture=" + target);
        long t0 = System.nanoTime();
        Nvrtc.Result r;
        try {
            r = Nvrtc.compile(source, file, options);
        } catch (CudaException e) {
            // the message holds NVRTC's whole log
            fail("NVRTC " + Nvrtc.versionString() + " could not compile " + file + ":\n" + e.getMessage());
            return;
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.cubin()).as("%s: a cubin for %s", file, target).isEqualTo(target.startsWith("sm_"));
        assertThat(r.image()).as("%s: the compiled image", file).isNotEmpty();
        String image = new String(r.image(), StandardCharsets.ISO_8859_1);
        for (String kernel : plainKernelNames(source)) {
            assertThat(image).as("%s: kernel %s in the %s", file, kernel, r.cubin() ? "cubin" : "PTX").contains(kernel);
        }
        System.out.printf("KernelsCompileTest: %-16s OK  %7d bytes of %s in %5d ms%s%n", file, r.image().length,
                r.cubin() ? "cubin" : "PTX", ms, r.log().isBlank() ? "" : "; NVRTC log:\n" + r.log().strip());
    }

    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (?:(?:__launch_bounds__|__maxnreg__)\\([^)]*\\) )?(\\w+)\\(");

    /** Kernels declared with a literal name (macro-made names, with ##, are left out). */
    static List<String> plainKernelNames(String source) {
        List<String> names = new ArrayList<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) names.add(m.group(1));
        return names;
    }

    /** Every {@code .cu} file in the kernels resource folder (a folder under target/classes, or inside a jar). */
    static List<String> kernelFiles() throws IOException {
        URL url = KernelCompiler.class.getResource(KernelCompiler.KERNEL_DIR);
        assertThat(url).as("resource folder %s", KernelCompiler.KERNEL_DIR).isNotNull();
        try {
            URI uri = url.toURI();
            if (uri.getScheme().equals("jar")) {
                try (FileSystem fs = FileSystems.newFileSystem(uri, Map.of())) {
                    return list(fs.getPath(KernelCompiler.KERNEL_DIR));
                }
            }
            return list(Path.of(uri));
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu")).sorted().toList();
        }
    }
}
