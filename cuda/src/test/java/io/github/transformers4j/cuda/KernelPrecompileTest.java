package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code t4j info --compile-kernels}: kernel files compiled side by side land in the disk cache under the key a GPU run
 * looks up, so its first use of them is a cache hit. Needs NVRTC, not a GPU (skipped without NVRTC, as
 * {@link KernelsCompileTest}); three small files keep it short.
 */
class KernelPrecompileTest {
    static final List<String> SMALL = List.of("elementwise.cu", "matmul.cu", "conv.cu");

    @Test
    void precompiledFilesAreTheCacheHitsOfALaterLoad(@TempDir Path dir) {
        KernelsCompileTest.requireNvrtc();
        KernelCompiler compiler = new KernelCompiler(new KernelCache(dir));
        List<KernelCompiler.Binary> first = compiler.precompile("sm_90", SMALL, 2);
        assertThat(first).extracting(KernelCompiler.Binary::name).containsExactlyElementsOf(SMALL);
        assertThat(first).allSatisfy(b -> {
            assertThat(b.cached()).as(b.name()).isFalse();
            assertThat(b.image()).as(b.name()).isNotEmpty();
        });
        assertThat(compiler.compilations()).isEqualTo(3);
        assertThat(dir.toFile().list((d, n) -> n.endsWith(".cubin"))).hasSize(3);

        // a new process (a new compiler over the same folder), as a GPU run would be: every file is a hit
        KernelCompiler later = new KernelCompiler(new KernelCache(dir));
        for (String f : SMALL) {
            KernelCompiler.Binary b = later.image(f, KernelCompiler.source(f), "sm_90");
            assertThat(b.cached()).as(f).isTrue();
            assertThat(b.image()).as(f).isEqualTo(first.get(SMALL.indexOf(f)).image());
        }
        assertThat(later.compilations()).isZero();
        assertThat(later.precompile("sm_90", SMALL, 3)).allMatch(KernelCompiler.Binary::cached);
        assertThat(later.compilations()).isZero();
    }

    @Test
    void badThreadCountsAndFilesAreErrors(@TempDir Path dir) {
        KernelCompiler compiler = new KernelCompiler(new KernelCache(dir));
        assertThatThrownBy(() -> compiler.precompile("sm_90", SMALL, 0)).hasMessageContaining("threads must be >= 1, got 0");
        assertThatThrownBy(() -> compiler.precompile("sm_90", List.of("nope.cu"), 1)).hasMessageContaining("kernel source not found")
                .hasMessageContaining("nope.cu");
    }
}
