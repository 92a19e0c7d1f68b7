package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelCacheTest {
    @TempDir Path tmp;

    @Test
    void keyIsSha256HexAndDependsOnEveryInput() {
        String base = KernelCache.key("src", List.of("--std=c++17", "--gpu-arch=sm_90"), "sm_90", "nvrtc-13.0");
        assertThat(base).hasSize(64).matches("[0-9a-f]{64}");
        assertThat(KernelCache.key("src", List.of("--std=c++17", "--gpu-arch=sm_90"), "sm_90", "nvrtc-13.0"))
                .isEqualTo(base);
        assertThat(KernelCache.key("src ", List.of("--std=c++17", "--gpu-arch=sm_90"), "sm_90", "nvrtc-13.0"))
                .isNotEqualTo(base);
        assertThat(KernelCache.key("src", List.of("--std=c++17", "--gpu-arch=sm_80"), "sm_90", "nvrtc-13.0"))
                .isNotEqualTo(base);
        assertThat(KernelCache.key("src", List.of("--std=c++17", "--gpu-arch=sm_90"), "sm_80", "nvrtc-13.0"))
                .isNotEqualTo(base);
        assertThat(KernelCache.key("src", List.of("--std=c++17", "--gpu-arch=sm_90"), "sm_90", "nvrtc-12.9"))
                .isNotEqualTo(base);
    }

    @Test
    void fieldBoundariesCannotBeShiftedToCollide() {
        assertThat(KernelCache.key("ab", List.of("c"), "sm_90", "v"))
                .isNotEqualTo(KernelCache.key("a", List.of("bc"), "sm_90", "v"));
        assertThat(KernelCache.key("a", List.of("b", "c"), "sm_90", "v"))
                .isNotEqualTo(KernelCache.key("a", List.of("bc"), "sm_90", "v"));
    }

    @Test
    void storesAndLoadsBinariesByKeyAndExtension() throws Exception {
        var cache = new KernelCache(tmp.resolve("k"));
        String key = KernelCache.key("x", List.of(), "sm_90", "v");
        assertThat(cache.load(key, "cubin")).isEmpty();
        byte[] image = {1, 2, 3, 0, 5};
        cache.store(key, "cubin", image);
        assertThat(cache.load(key, "cubin")).get().isEqualTo(image);
        assertThat(cache.load(key, "ptx")).isEmpty();
        assertThat(tmp.resolve("k").resolve(key + ".cubin")).exists();
        try (var files = Files.list(tmp.resolve("k"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly(key + ".cubin");
        }
    }

    @Test
    void defaultFolderFollowsOverridesAndXdg() {
        assertThat(KernelCache.defaultDir(Map.of(), "/home/u")).isEqualTo(Path.of("/home/u/.cache/transformers4j/kernels"));
        assertThat(KernelCache.defaultDir(Map.of("XDG_CACHE_HOME", "/x"), "/home/u"))
                .isEqualTo(Path.of("/x/transformers4j/kernels"));
        assertThat(KernelCache.defaultDir(Map.of("T4J_KERNEL_CACHE", "/k"), "/home/u")).isEqualTo(Path.of("/k"));
        assertThat(KernelCache.defaultDir(Map.of("T4J_KERNEL_CACHE", "off"), "/home/u")).isNull();
        var disabled = new KernelCache(null);
        disabled.store("k", "cubin", new byte[] {1});
        assertThat(disabled.load("k", "cubin")).isEmpty();
    }
}
