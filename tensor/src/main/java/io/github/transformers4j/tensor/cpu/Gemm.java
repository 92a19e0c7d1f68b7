package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** Placeholder GEMM (simple loops); replaced by the blocked Vector API kernel. Offsets and strides in elements. */
public final class Gemm {
    private Gemm() {}

    public static void sgemm(int batch, int m, int n, int k, MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs, MemorySegment c, long cOff, long cBatch, long ldc,
            boolean accumulate) {
        Parallel.forRange(batch * m, Math.max(1, 4096 / Math.max(1, n * k / 64)), (lo, hi) -> {
            float[] row = new float[n];
            for (int r = lo; r < hi; r++) {
                int bi = r / m, i = r % m;
                java.util.Arrays.fill(row, 0);
                for (int p = 0; p < k; p++) {
                    float av = a.getAtIndex(JAVA_FLOAT, aOff + bi * aBatch + i * aRs + p * aCs);
                    long bb = bOff + bi * bBatch + p * bRs;
                    for (int j = 0; j < n; j++) row[j] += av * b.getAtIndex(JAVA_FLOAT, bb + j * bCs);
                }
                long cc = cOff + bi * cBatch + i * ldc;
                for (int j = 0; j < n; j++) c.setAtIndex(JAVA_FLOAT, cc + j, (accumulate ? c.getAtIndex(JAVA_FLOAT, cc + j) : 0) + row[j]);
            }
        });
    }

    public static void dgemm(int batch, int m, int n, int k, MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs, MemorySegment c, long cOff, long cBatch, long ldc,
            boolean accumulate) {
        Parallel.forRange(batch * m, 1, (lo, hi) -> {
            double[] row = new double[n];
            for (int r = lo; r < hi; r++) {
                int bi = r / m, i = r % m;
                java.util.Arrays.fill(row, 0);
                for (int p = 0; p < k; p++) {
                    double av = a.getAtIndex(JAVA_DOUBLE, aOff + bi * aBatch + i * aRs + p * aCs);
                    long bb = bOff + bi * bBatch + p * bRs;
                    for (int j = 0; j < n; j++) row[j] += av * b.getAtIndex(JAVA_DOUBLE, bb + j * bCs);
                }
                long cc = cOff + bi * cBatch + i * ldc;
                for (int j = 0; j < n; j++) c.setAtIndex(JAVA_DOUBLE, cc + j, (accumulate ? c.getAtIndex(JAVA_DOUBLE, cc + j) : 0) + row[j]);
            }
        });
    }
}
