package io.github.transformers4j.cuda;

import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Figures, not assertions: the cost of one eager op from Java (allocation, launch, release), bandwidth of large
 * elementwise/softmax/layerNorm ops, and matmul throughput through Tensor. Printed as a table for NOTES.md.
 */
@Tag("cuda")
class CudaBenchTest {
    static final Device GPU = Device.cuda(0);

    interface Body { void run(); }

    /** Median over 5 rounds of (time for reps calls + synchronize) / reps, in microseconds. */
    static double time(int reps, Body body) {
        CudaBackend b = (CudaBackend) Backends.of(GPU);
        for (int i = 0; i < Math.min(reps, 50); i++) body.run();
        b.synchronize();
        double[] r = new double[5];
        for (int k = 0; k < r.length; k++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) body.run();
            b.synchronize();
            r[k] = (System.nanoTime() - t0) / 1e3 / reps;
        }
        java.util.Arrays.sort(r);
        return r[2];
    }

    @Test
    void figures() {
        GpuTests.device();
        StringBuilder out = new StringBuilder("\n| what | per call |\n|---|---|\n");
        try (var g = Grad.disabled()) {
            Tensor small = Tensor.randn(new Random4j(1), 1024).to(GPU), small2 = Tensor.randn(new Random4j(2), 1024).to(GPU);
            double addSmall = time(20_000, () -> { try (var s = Memory.scope()) { small.add(small2); } });
            out.append(String.format("| x.add(y), 1024 floats, eager from Java (alloc + launch + release) | %.2f us |%n", addSmall));
            double geluSmall = time(20_000, () -> { try (var s = Memory.scope()) { small.gelu(); } });
            out.append(String.format("| x.gelu(), 1024 floats | %.2f us |%n", geluSmall));
            Tensor m = Tensor.randn(new Random4j(3), 64, 64).to(GPU);
            double mm = time(10_000, () -> { try (var s = Memory.scope()) { m.matmul(m); } });
            out.append(String.format("| 64x64 @ 64x64 matmul (cuBLASLt) | %.2f us |%n", mm));
            Tensor row = Tensor.randn(new Random4j(4), 64, 256).to(GPU);
            double sm = time(10_000, () -> { try (var s = Memory.scope()) { row.softmax(-1); } });
            out.append(String.format("| softmax [64, 256] | %.2f us |%n", sm));
            double sum = time(10_000, () -> { try (var s = Memory.scope()) { row.sum(0, false); } });
            out.append(String.format("| sum over dim 0 of [64, 256] | %.2f us |%n", sum));

            int n = 1 << 26; // 64M floats = 256 MiB
            Tensor big = Tensor.full(1.5, DType.F32, GPU, n), big2 = Tensor.full(0.5, DType.F32, GPU, n);
            double addBig = time(20, () -> { try (var s = Memory.scope()) { big.add(big2); } });
            out.append(String.format("| x.add(y), 64M floats | %.0f us = %.0f GB/s (3 x 256 MiB) |%n", addBig, 3.0 * 4 * n / addBig / 1e3));
            Tensor bigT = big.view(8192, 8192);
            double tr = time(20, () -> { try (var s = Memory.scope()) { bigT.t().contiguous(); } });
            out.append(String.format("| transpose copy 8192x8192 floats | %.0f us = %.0f GB/s |%n", tr, 2.0 * 4 * n / tr / 1e3));
            double red = time(20, () -> { try (var s = Memory.scope()) { bigT.sum(1, false); } });
            out.append(String.format("| sum rows of 8192x8192 | %.0f us = %.0f GB/s |%n", red, 4.0 * n / red / 1e3));
            double red0 = time(20, () -> { try (var s = Memory.scope()) { bigT.sum(0, false); } });
            out.append(String.format("| sum columns of 8192x8192 | %.0f us = %.0f GB/s |%n", red0, 4.0 * n / red0 / 1e3));
            Tensor att = Tensor.randn(new Random4j(5), 4096, 4096).to(GPU);
            double smBig = time(20, () -> { try (var s = Memory.scope()) { att.softmax(-1); } });
            out.append(String.format("| softmax 4096x4096 | %.0f us = %.0f GB/s |%n", smBig, 2.0 * 4 * 4096 * 4096 / smBig / 1e3));
            Tensor x = Tensor.randn(new Random4j(6), 16384, 768).to(GPU), w = Tensor.ones(768).to(GPU), bb = Tensor.zeros(768).to(GPU);
            double bias = time(20, () -> { try (var s = Memory.scope()) { x.add(w); } });
            out.append(String.format("| x [16384, 768] + bias [768] (broadcast) | %.0f us = %.0f GB/s |%n", bias, 2.0 * 4 * 16384 * 768 / bias / 1e3));
            double ln = time(20, () -> { try (var s = Memory.scope()) { NnOps.layerNorm(x, 1, w, bb, 1e-5); } });
            out.append(String.format("| layerNorm 16384x768 | %.0f us = %.0f GB/s |%n", ln, 2.0 * 4 * 16384 * 768 / ln / 1e3));

            Tensor a = Tensor.randn(new Random4j(7), 4096, 4096).to(GPU);
            CudaBackend be = (CudaBackend) Backends.of(GPU);
            boolean tf = be.tf32();
            be.allowTf32(false);
            double fp32 = time(10, () -> { try (var s = Memory.scope()) { a.matmul(a); } });
            be.allowTf32(true);
            double tf32 = time(10, () -> { try (var s = Memory.scope()) { a.matmul(a); } });
            be.allowTf32(tf);
            Tensor ab = a.to(DType.BF16);
            double bf16 = time(10, () -> { try (var s = Memory.scope()) { ab.matmul(ab); } });
            double flop = 2.0 * 4096 * 4096 * 4096;
            out.append(String.format("| matmul 4096^3 fp32 | %.0f us = %.1f TFLOP/s |%n", fp32, flop / fp32 / 1e6));
            out.append(String.format("| matmul 4096^3 tf32 | %.0f us = %.1f TFLOP/s |%n", tf32, flop / tf32 / 1e6));
            out.append(String.format("| matmul 4096^3 bf16 | %.0f us = %.1f TFLOP/s |%n", bf16, flop / bf16 / 1e6));
        }
        System.out.println(out);
    }
}
