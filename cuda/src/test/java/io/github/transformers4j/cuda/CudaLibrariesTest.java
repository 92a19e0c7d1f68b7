package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaLibrariesTest {
    @TempDir Path tmp;

    private static Path touch(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(name), "not really a library");
    }

    @Test
    void missingLibrariesMessageListsEverySearchedDirectoryOnOneLine() {
        Path fake1 = tmp.resolve("fake1");
        Path fake2 = tmp.resolve("fake2");
        Path ld = tmp.resolve("ld");
        var env = Map.of("T4J_CUDA_LIB_PATH", fake1 + File.pathSeparator + fake2, "LD_LIBRARY_PATH", ld.toString());
        var libs = CudaLibraries.fromEnvironment(env, tmp.resolve("home").toString());

        assertThat(libs.searchDirs()).startsWith(fake1, fake2, ld);
        assertThat(libs.searchDirs()).contains(Path.of("/usr/local/cuda/lib64"),
                Path.of("/usr/local/cuda/targets/x86_64-linux/lib"), Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/usr/lib"));
        // Only meaningful where no CUDA is installed in the system folders; the message must then name them all.
        if (libs.findAll().isEmpty()) {
            String msg = libs.missingMessage();
            assertThat(msg).doesNotContain("\n").startsWith("CUDA unavailable: not found:");
            for (Path dir : libs.searchDirs()) assertThat(msg).contains(dir.toString());
        }
    }

    @Test
    void findsEachLibraryInTheOverrideFolderAndPrefersTheNewerSoname() throws IOException {
        Path dir = tmp.resolve("cuda");
        Path older = tmp.resolve("older");
        Path driver = touch(dir, "libcuda.so.1");
        touch(older, "libnvrtc.so.13");
        touch(dir, "libnvrtc.so.12");
        Path cublas = touch(dir, "libcublasLt.so.13");
        var env = Map.of("T4J_CUDA_LIB_PATH", dir + File.pathSeparator + older);
        var libs = CudaLibraries.fromEnvironment(env, tmp.toString());

        var found = libs.findAll().orElseThrow();
        assertThat(found.driver()).isEqualTo(driver);
        // .13 wins although its folder comes later in the search order than the .12.
        assertThat(found.nvrtc()).isEqualTo(older.resolve("libnvrtc.so.13"));
        assertThat(found.cublasLt()).isEqualTo(cublas);
        assertThat(libs.missing()).isEmpty();
    }

    @Test
    void cudnnTakesTheNewestCopyWhereverItIs() throws IOException {
        // a system cuDNN 9.14 first in the search order, Python's 9.19 later: 9.19 wins, through its symbolic link
        Path system = tmp.resolve("system"), python = tmp.resolve("site-packages/nvidia/cudnn/lib"), odd = tmp.resolve("odd");
        Files.createSymbolicLink(Files.createDirectories(system).resolve("libcudnn.so.9"), touch(system, "libcudnn.so.9.14.0"));
        Files.createSymbolicLink(Files.createDirectories(python).resolve("libcudnn.so.9"), touch(python, "libcudnn.so.9.19.0"));
        touch(odd, "libcudnn.so.9"); // no version beyond the soname's
        var env = Map.of("T4J_CUDA_LIB_PATH", odd + File.pathSeparator + system + File.pathSeparator + python);
        var libs = CudaLibraries.fromEnvironment(env, tmp.toString());

        assertThat(libs.findNewest(CudaLibraries.CUDNN)).contains(python.resolve("libcudnn.so.9"));
        assertThat(CudaLibraries.version(system.resolve("libcudnn.so.9"))).containsExactly(9, 14, 0);
        assertThat(CudaLibraries.version(odd.resolve("libcudnn.so.9"))).containsExactly(9);
        assertThat(CudaLibraries.fromEnvironment(Map.of("T4J_CUDA_LIB_PATH", tmp.resolve("none").toString()), tmp.toString())
                .findNewest(new CudaLibraries.Spec("x", java.util.List.of("libnothing.so.1")))).isEmpty();
    }

    @Test
    void aWheelsCudnnIsDatedByItsVersionHeader() throws IOException {
        // pip's nvidia-cudnn wheel as it is on the GPU machine: a plain lib/libcudnn.so.9 (no 9.19.0 file, no link) and
        // include/cudnn_version.h beside lib/; the system's libcudnn.so.9 -> libcudnn.so.9.14.0 comes first in the order
        Path system = tmp.resolve("system"), wheel = tmp.resolve("site-packages/nvidia/cudnn");
        Files.createSymbolicLink(Files.createDirectories(system).resolve("libcudnn.so.9"), touch(system, "libcudnn.so.9.14.0"));
        Path lib = touch(wheel.resolve("lib"), "libcudnn.so.9");
        Files.writeString(Files.createDirectories(wheel.resolve("include")).resolve("cudnn_version.h"), """
                #ifndef CUDNN_VERSION_H_
                #define CUDNN_MAJOR 9
                #define CUDNN_MINOR 19
                #define CUDNN_PATCHLEVEL 0
                #define CUDNN_VERSION (CUDNN_MAJOR * 10000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)
                """);
        var libs = CudaLibraries.fromEnvironment(Map.of("T4J_CUDA_LIB_PATH", system + File.pathSeparator + wheel.resolve("lib")), tmp.toString());

        assertThat(CudaLibraries.version(CudaLibraries.CUDNN, lib)).containsExactly(9, 19, 0);
        assertThat(libs.findNewest(CudaLibraries.CUDNN)).contains(lib);
        // a header without the patch level says nothing: the soname's 9 is all there is, and 9.14 wins
        Files.writeString(wheel.resolve("include/cudnn_version.h"), "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 19\n");
        assertThat(CudaLibraries.version(CudaLibraries.CUDNN, lib)).containsExactly(9);
        assertThat(libs.findNewest(CudaLibraries.CUDNN)).contains(system.resolve("libcudnn.so.9"));
    }

    @Test
    void fallsBackToCuda12LibrariesWhenNo13IsPresent() throws IOException {
        Path dir = tmp.resolve("cuda12");
        touch(dir, "libnvrtc.so.12");
        touch(dir, "libcublasLt.so.12");
        var libs = new CudaLibraries(java.util.List.of(dir));
        assertThat(libs.find(CudaLibraries.NVRTC)).contains(dir.resolve("libnvrtc.so.12"));
        assertThat(libs.find(CudaLibraries.CUBLAS_LT)).contains(dir.resolve("libcublasLt.so.12"));
        assertThat(libs.missing()).containsExactly(CudaLibraries.DRIVER);
        assertThat(libs.missingMessage()).contains("CUDA driver (libcuda.so.1 or libcuda.so)").doesNotContain("NVRTC")
                .contains(dir.toString());
    }

    @Test
    void searchesPythonNvidiaWheelFolders() throws IOException {
        Path venv = tmp.resolve("venv");
        Path lib = venv.resolve("lib/python3.12/site-packages/nvidia/cu13/lib");
        touch(lib, "libcublasLt.so.13");
        var env = Map.of("VIRTUAL_ENV", venv.toString());
        var libs = CudaLibraries.fromEnvironment(env, tmp.resolve("nohome").toString());
        assertThat(libs.searchDirs()).contains(lib);
        // Wheel folders come after the system ones (which may hold a real CUDA); on their own they find the wheel's copy.
        var wheelsOnly = new CudaLibraries(CudaLibraries.pythonNvidiaLibDirs(env, tmp.resolve("nohome").toString()));
        assertThat(wheelsOnly.find(CudaLibraries.CUBLAS_LT)).contains(lib.resolve("libcublasLt.so.13"));
    }

    @Test
    void availabilityNeverThrowsAndAgreesWithTheReason() {
        boolean available = Cuda.isAvailable();
        String reason = Cuda.unavailableReason();
        assertThat(available).isEqualTo(reason == null);
        if (!available) assertThat(reason).startsWith("CUDA unavailable").doesNotContain("\n");
        if (!available) assertThat(CudaInfo.describe()).isEqualTo(reason);
    }
}
