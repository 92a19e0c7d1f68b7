package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * cuBLASLt products against a float64 CPU reference computed from the original fp32 inputs (so bf16 and tf32
 * errors include the rounding of the inputs). Relative error is ||C - ref|| / ||ref|| over the whole batch.
 */
@Tag("cuda")
class CublasLtTest {
    private final Random rnd = new Random(7);

    /** Runs one product and returns the relative error; checks padding of C was left alone. */
    private double run(boolean ta, boolean tb, int m, int n, int k, int batch, int pad, double alpha, double beta,
                       CudaDataType abType, CudaDataType cType, ComputeType compute) {
        CudaDevice d = GpuTests.device();
        long rowsA = ta ? k : m, colsA = ta ? m : k, rowsB = tb ? n : k, colsB = tb ? k : n;
        long lda = colsA + pad, ldb = colsB + pad, ldc = n + pad;
        long sa = rowsA * lda, sb = rowsB * ldb, sc = m * ldc;
        float[] a = GpuTests.randomFloats(rnd, (int) (sa * batch));
        float[] b = GpuTests.randomFloats(rnd, (int) (sb * batch));
        float[] c0 = beta == 0 ? nan((int) (sc * batch)) : GpuTests.randomFloats(rnd, (int) (sc * batch));

        double[] ref = new double[m * n * batch];
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        double av = ta ? a[(int) (p * sa + l * lda + i)] : a[(int) (p * sa + i * lda + l)];
                        double bv = tb ? b[(int) (p * sb + j * ldb + l)] : b[(int) (p * sb + l * ldb + j)];
                        s += av * bv;
                    }
                    double c = beta == 0 ? 0 : beta * c0[(int) (p * sc + i * ldc + j)];
                    ref[(p * m + i) * n + j] = alpha * s + c;
                }

        CudaStream s = d.defaultStream();
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer da = d.allocate(a.length * (long) abType.byteSize());
             DeviceBuffer db = d.allocate(b.length * (long) abType.byteSize());
             DeviceBuffer dc = d.allocate(c0.length * (long) cType.byteSize())) {
            s.copyToDevice(encode(arena, a, abType), da.pointer(), da.bytes());
            s.copyToDevice(encode(arena, b, abType), db.pointer(), db.bytes());
            s.copyToDevice(encode(arena, c0, cType), dc.pointer(), dc.bytes());
            d.blas().matmul(s, ta, tb, m, n, k, alpha, da.pointer(), lda, sa, db.pointer(), ldb, sb,
                    beta, dc.pointer(), ldc, sc, batch, abType, cType, compute);
            MemorySegment out = arena.allocate(dc.bytes());
            s.copyToHost(dc.pointer(), out, dc.bytes());
            float[] c = decode(out, cType, c0.length);
            double[] got = new double[ref.length];
            for (int p = 0; p < batch; p++)
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) got[(p * m + i) * n + j] = c[(int) (p * sc + i * ldc + j)];
                    for (int j = n; j < ldc; j++) {
                        float before = decode(encode(arena, new float[] {c0[(int) (p * sc + i * ldc + j)]}, cType), cType, 1)[0];
                        assertThat(Float.floatToRawIntBits(c[(int) (p * sc + i * ldc + j)]))
                                .as("padding of C must be untouched").isEqualTo(Float.floatToRawIntBits(before));
                    }
                }
            double err = GpuTests.relativeError(got, ref);
            System.out.printf("matmul %s%s m=%d n=%d k=%d batch=%d pad=%d %s->%s %s: rel err %.2e%n",
                    ta ? "T" : "N", tb ? "T" : "N", m, n, k, batch, pad, abType, cType, compute, err);
            return err;
        }
    }

    private static float[] nan(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, Float.NaN);
        return v;
    }

    private static MemorySegment encode(Arena arena, float[] v, CudaDataType type) {
        return switch (type) {
            case F32 -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
            case BF16 -> {
                short[] h = new short[v.length];
                for (int i = 0; i < v.length; i++) h[i] = GpuTests.toBf16(v[i]);
                yield arena.allocateFrom(ValueLayout.JAVA_SHORT, h);
            }
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    private static float[] decode(MemorySegment seg, CudaDataType type, int n) {
        if (type == CudaDataType.F32) return seg.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_FLOAT);
        short[] h = seg.asSlice(0, 2L * n).toArray(ValueLayout.JAVA_SHORT);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = GpuTests.fromBf16(h[i]);
        return v;
    }

    @Test
    void sgemmFp32() {
        assertThat(run(false, false, 256, 192, 320, 1, 0, 1, 0, CudaDataType.F32, CudaDataType.F32, ComputeType.F32))
                .isLessThan(1e-5);
        assertThat(run(false, false, 33, 17, 65, 1, 3, 0.5, 2.0, CudaDataType.F32, CudaDataType.F32, ComputeType.F32))
                .isLessThan(1e-5);
    }

    @Test
    void sgemmTf32() {
        assertThat(run(false, false, 256, 192, 320, 1, 0, 1, 0, CudaDataType.F32, CudaDataType.F32, ComputeType.TF32))
                .isLessThan(1e-3);
    }

    @Test
    void bf16InputsWithFp32Accumulation() {
        assertThat(run(false, false, 256, 192, 320, 1, 0, 1, 0, CudaDataType.BF16, CudaDataType.BF16, ComputeType.F32))
                .isLessThan(1e-2);
        assertThat(run(false, true, 128, 64, 256, 1, 0, 1, 0, CudaDataType.BF16, CudaDataType.F32, ComputeType.F32))
                .isLessThan(1e-2);
    }

    @Test
    void batchedAndTransposedVariants() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                assertThat(run(ta, tb, 48, 40, 72, 3, 0, 1, 0, CudaDataType.F32, CudaDataType.F32, ComputeType.F32))
                        .isLessThan(1e-5);
                assertThat(run(ta, tb, 64, 32, 128, 4, 8, 1, 0.5, CudaDataType.F32, CudaDataType.F32, ComputeType.TF32))
                        .isLessThan(1e-3);
                assertThat(run(ta, tb, 64, 96, 128, 2, 0, 1, 0, CudaDataType.BF16, CudaDataType.BF16, ComputeType.F32))
                        .isLessThan(1e-2);
            }
        }
    }

    @Test
    void repeatedShapesReuseTheirPlan() {
        CudaDevice d = GpuTests.device();
        run(false, false, 40, 24, 56, 1, 0, 1, 0, CudaDataType.F32, CudaDataType.F32, ComputeType.F32);
        int plans = d.blas().cachedPlans();
        assertThat(run(false, false, 40, 24, 56, 1, 0, 1, 0, CudaDataType.F32, CudaDataType.F32, ComputeType.F32))
                .isLessThan(1e-5);
        assertThat(d.blas().cachedPlans()).isEqualTo(plans);
    }
}
