package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("cuda")
class CudaGraphTest {

    @Test
    void capturedLaunchesReplayOnNewInputs() {
        CudaDevice d = GpuTests.device();
        int n = 1 << 20;
        Random rnd = new Random(11);
        try (CudaStream s = d.newStream();
             DeviceBuffer x = d.allocate(4L * n, s); DeviceBuffer y = d.allocate(4L * n, s);
             DeviceBuffer z = d.allocate(4L * n, s); DeviceBuffer w = d.allocate(4L * n, s)) {
            // Load the module before capture (module loading is not a stream operation).
            Elementwise.fill(s, z.pointer(), 0f, n);
            // Plan the GEMM (heuristic, workspace allocation) before capture too: no cuMemAlloc while capturing.
            matmulLast(d, s, x, y, w, n);
            s.synchronize();

            s.beginCapture();
            Elementwise.add(s, x.pointer(), y.pointer(), z.pointer(), n);   // z = x + y
            Elementwise.mul(s, z.pointer(), y.pointer(), w.pointer(), n);   // w = (x + y) * y
            matmulLast(d, s, x, y, w, n);                                  // w[n-1] = x[0] * y[0]
            CudaGraph graph;
            try {
                graph = s.endCapture();
            } catch (CudaException e) {
                throw new AssertionError("capture failed: " + e.getMessage(), e);
            }
            try (graph) {
                for (int rep = 0; rep < 3; rep++) {
                    float[] xs = GpuTests.randomFloats(rnd, n), ys = GpuTests.randomFloats(rnd, n);
                    s.copyToDevice(xs, x.pointer());
                    s.copyToDevice(ys, y.pointer());
                    s.memsetD32Async(w.pointer(), Float.floatToRawIntBits(Float.NaN), n);
                    graph.launch(s);
                    float[] got = s.copyToHostFloats(w.pointer(), n);
                    for (int i = 0; i < n - 1; i++) {
                        if (got[i] != (xs[i] + ys[i]) * ys[i]) {
                            throw new AssertionError("replay " + rep + " i=" + i + ": " + got[i] + " vs " + (xs[i] + ys[i]) * ys[i]);
                        }
                    }
                    assertThat(got[n - 1]).isEqualTo(xs[0] * ys[0]);
                }
                // Figures for the backend's design (printed, not asserted): eager launches against graph replays.
                try (CudaEvent start = d.newEvent(true); CudaEvent end = d.newEvent(true)) {
                    for (int warm = 0; warm < 2; warm++) {
                        long t0 = System.nanoTime();
                        start.record(s);
                        for (int i = 0; i < 200; i++) {
                            Elementwise.add(s, x.pointer(), y.pointer(), z.pointer(), n);
                            Elementwise.mul(s, z.pointer(), y.pointer(), w.pointer(), n);
                            matmulLast(d, s, x, y, w, n);
                        }
                        end.record(s);
                        long host = System.nanoTime() - t0;
                        end.synchronize();
                        if (warm == 1) System.out.printf("eager (2 elementwise + 1 GEMM, n=%d): %.1f us/iteration on the"
                                + " device, %.1f us/iteration to submit from Java%n", n,
                                1000 * end.elapsedSince(start) / 200, host / 1e3 / 200);
                    }
                    start.record(s);
                    for (int i = 0; i < 200; i++) graph.launch(s);
                    end.record(s);
                    end.synchronize();
                    System.out.printf("graph replay (same work): %.1f us/iteration%n", 1000 * end.elapsedSince(start) / 200);
                }
            }
        }
    }

    /** A 1x1x1 product through cuBLASLt: w[n-1] = x[0] * y[0]. */
    private static void matmulLast(CudaDevice d, CudaStream s, DeviceBuffer x, DeviceBuffer y, DeviceBuffer w, int n) {
        d.blas().matmul(s, false, false, 1, 1, 1, 1, x.pointer(), 1, 0, y.pointer(), 1, 0, 0,
                w.pointer() + 4L * (n - 1), 1, 0, 1, CudaDataType.F32, ComputeType.F32);
    }
}
