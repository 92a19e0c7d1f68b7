package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("cuda")
class NvrtcKernelTest {
    @TempDir Path tmp;

    @Test
    void elementwiseKernelsMatchTheCpu() {
        CudaDevice d = GpuTests.device();
        Random rnd = new Random(3);
        for (int n : new int[] {1, 255, 1_000_003, 10_000_000}) {
            float[] a = GpuTests.randomFloats(rnd, n), b = GpuTests.randomFloats(rnd, n);
            try (DeviceBuffer da = d.allocate(4L * n); DeviceBuffer db = d.allocate(4L * n);
                 DeviceBuffer dout = d.allocate(4L * n)) {
                CudaStream s = d.defaultStream();
                d.copyToDevice(a, da.pointer());
                d.copyToDevice(b, db.pointer());
                s.memsetD32Async(dout.pointer(), Float.floatToRawIntBits(Float.NaN), n);
                Elementwise.add(s, da.pointer(), db.pointer(), dout.pointer(), n);
                float[] sum = d.copyToHostFloats(dout.pointer(), n);
                Elementwise.mul(s, da.pointer(), db.pointer(), dout.pointer(), n);
                float[] prod = d.copyToHostFloats(dout.pointer(), n);
                for (int i = 0; i < n; i++) {
                    if (sum[i] != a[i] + b[i] || prod[i] != a[i] * b[i]) {
                        throw new AssertionError("n=" + n + " i=" + i + ": add " + sum[i] + " vs " + (a[i] + b[i])
                                + ", mul " + prod[i] + " vs " + (a[i] * b[i]));
                    }
                }
                Elementwise.fill(s, dout.pointer(), -1.25f, n);
                float[] filled = d.copyToHostFloats(dout.pointer(), n);
                for (int i = 0; i < n; i++) assertThat(filled[i]).isEqualTo(-1.25f);
            }
        }
    }

    @Test
    void compiledBinariesAreCachedOnDiskByHash() throws Exception {
        CudaDevice d = GpuTests.device();
        var compiler = new KernelCompiler(new KernelCache(tmp.resolve("kernels")));
        String src = "extern \"C\" __global__ void twice(float* x, long long n) {"
                + " long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; if (i < n) x[i] *= 2.0f; }";
        CudaModule m1 = compiler.load(d, "twice.cu", src);
        assertThat(compiler.compilations()).isEqualTo(1);
        try (var files = Files.list(tmp.resolve("kernels"))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .singleElement().asString().matches("[0-9a-f]{64}\\.(cubin|ptx)");
        }
        CudaModule m2 = compiler.load(d, "twice.cu", src);
        assertThat(compiler.compilations()).isEqualTo(1);
        assertThat(compiler.diskHits()).isEqualTo(1);
        System.out.println("NVRTC target for " + d + ": " + compiler.target(d));

        // The module from the cache runs.
        int n = 1000;
        float[] x = GpuTests.randomFloats(new Random(4), n);
        try (DeviceBuffer dx = d.allocate(4L * n)) {
            d.copyToDevice(x, dx.pointer());
            m2.function("twice").launch(d.defaultStream(), 4, 256, 0, KernelArgs.of().ptr(dx).i64(n));
            float[] y = d.copyToHostFloats(dx.pointer(), n);
            for (int i = 0; i < n; i++) assertThat(y[i]).isEqualTo(2 * x[i]);
        }
        assertThat(m1.function("twice").handle()).isNotZero();
    }

    @Test
    void compileErrorsCarryTheNvrtcLog() {
        CudaDevice d = GpuTests.device();
        var compiler = new KernelCompiler(new KernelCache(null));
        assertThatThrownBy(() -> compiler.load(d, "broken.cu",
                "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }"))
                .isInstanceOf(CudaException.class)
                .hasMessageContaining("nvrtcCompileProgram failed for broken.cu")
                .hasMessageContaining("NVRTC_ERROR_COMPILATION")
                .hasMessageContaining("undefined_name");
    }

    @Test
    void missingKernelNamesTheKernel() {
        CudaDevice d = GpuTests.device();
        assertThatThrownBy(() -> d.function("elementwise.cu", "no_such_kernel"))
                .isInstanceOf(CudaException.class).hasMessageContaining("no_such_kernel")
                .hasMessageContaining("CUDA_ERROR_NOT_FOUND");
    }
}
