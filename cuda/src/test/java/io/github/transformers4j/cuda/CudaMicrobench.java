package io.github.transformers4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Not a test: figures for the backend's design, run on the GPU machine with
 * {@code jre/bin/java --enable-native-access=ALL-UNNAMED -cp lib/*:tests/cuda io.github.transformers4j.cuda.CudaMicrobench}.
 * Java-side launch cost after JIT warm-up, cuBLASLt call cost, graph replay, and large-GEMM throughput on random data.
 */
public final class CudaMicrobench {
    public static void main(String[] args) {
        CudaDevice d = Cuda.device(0);
        System.out.println(CudaInfo.describe());
        CudaStream s = d.newStream();
        int small = 1024;
        try (DeviceBuffer x = d.allocate(4L * small, s); DeviceBuffer y = d.allocate(4L * small, s);
             DeviceBuffer z = d.allocate(4L * small, s); CudaEvent e0 = d.newEvent(true); CudaEvent e1 = d.newEvent(true)) {
            Elementwise.fill(s, x.pointer(), 1f, small);
            Elementwise.fill(s, y.pointer(), 2f, small);
            int iters = 20_000;
            for (int round = 0; round < 3; round++) {
                s.synchronize();
                long t0 = System.nanoTime();
                e0.record(s);
                for (int i = 0; i < iters; i++) Elementwise.add(s, x.pointer(), y.pointer(), z.pointer(), small);
                e1.record(s);
                long host = System.nanoTime() - t0;
                e1.synchronize();
                System.out.printf("round %d: elementwise add n=%d: %.2f us/launch to submit, %.2f us/launch on device%n",
                        round, small, host / 1e3 / iters, 1000.0 * e1.elapsedSince(e0) / iters);
            }
            for (int round = 0; round < 3; round++) {
                s.synchronize();
                long t0 = System.nanoTime();
                e0.record(s);
                for (int i = 0; i < iters; i++) {
                    d.blas().matmul(s, false, false, 32, 32, 32, 1, x.pointer(), 32, 0, y.pointer(), 32, 0, 0,
                            z.pointer(), 32, 0, 1, CudaDataType.F32, ComputeType.F32);
                }
                e1.record(s);
                long host = System.nanoTime() - t0;
                e1.synchronize();
                System.out.printf("round %d: cuBLASLt 32x32x32 fp32: %.2f us/call to submit, %.2f us/call on device%n",
                        round, host / 1e3 / iters, 1000.0 * e1.elapsedSince(e0) / iters);
            }
            s.beginCapture();
            for (int i = 0; i < 100; i++) Elementwise.add(s, x.pointer(), y.pointer(), z.pointer(), small);
            try (CudaGraph g = s.endCapture()) {
                for (int round = 0; round < 3; round++) {
                    e0.record(s);
                    for (int i = 0; i < 200; i++) g.launch(s);
                    e1.record(s);
                    e1.synchronize();
                    System.out.printf("round %d: graph of 100 adds: %.2f us/kernel on device%n", round,
                            1000.0 * e1.elapsedSince(e0) / 200 / 100);
                }
            }
        }
        gemm(d, s, 8192, CudaDataType.BF16, CudaDataType.BF16, ComputeType.F32);
        gemm(d, s, 8192, CudaDataType.F32, CudaDataType.F32, ComputeType.TF32);
        gemm(d, s, 8192, CudaDataType.F32, CudaDataType.F32, ComputeType.F32);
        System.out.println("allocator: " + d.allocator().stats());
    }

    /** Median TFLOP/s of 20 timed n^3 products on random inputs, after 3 warm-ups. */
    private static void gemm(CudaDevice d, CudaStream s, int n, CudaDataType ab, CudaDataType c, ComputeType compute) {
        long elems = (long) n * n;
        SplittableRandom rnd = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer a = d.allocate(elems * ab.byteSize(), s); DeviceBuffer b = d.allocate(elems * ab.byteSize(), s);
             DeviceBuffer out = d.allocate(elems * c.byteSize(), s);
             CudaEvent e0 = d.newEvent(true); CudaEvent e1 = d.newEvent(true)) {
            MemorySegment host = arena.allocate(elems * ab.byteSize(), 16);
            for (DeviceBuffer buf : new DeviceBuffer[] {a, b}) {
                for (long i = 0; i < elems; i++) {
                    float v = (float) (rnd.nextDouble() * 2 - 1);
                    if (ab == CudaDataType.BF16) host.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                    else host.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                }
                s.copyToDevice(host, buf.pointer(), buf.bytes());
            }
            float[] ms = new float[23];
            for (int r = 0; r < ms.length; r++) {
                e0.record(s);
                d.blas().matmul(s, false, false, n, n, n, 1, a.pointer(), n, 0, b.pointer(), n, 0, 0, out.pointer(), n, 0, 1,
                        ab, c, compute);
                e1.record(s);
                e1.synchronize();
                ms[r] = e1.elapsedSince(e0);
            }
            float[] timed = Arrays.copyOfRange(ms, 3, ms.length);
            Arrays.sort(timed);
            double median = timed[timed.length / 2];
            System.out.printf("GEMM %d^3 %s->%s compute %s: median %.3f ms, %.0f TFLOP/s%n", n, ab, c, compute, median,
                    2.0 * n * n * (double) n / (median * 1e-3) / 1e12);
        }
    }
}
