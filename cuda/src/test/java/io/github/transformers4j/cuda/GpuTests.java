package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

/** Helpers for the GPU tests: they run only where a GPU is expected, so a missing CUDA fails rather than skips. */
final class GpuTests {
    private GpuTests() {}

    static CudaDevice device() {
        assertThat(Cuda.isAvailable()).as("CUDA must be available for @Tag(\"cuda\") tests: %s",
                Cuda.unavailableReason()).isTrue();
        return Cuda.device(0);
    }

    static float[] randomFloats(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    /** float -> bfloat16 bits, round to nearest even (finite inputs). */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    static float fromBf16(short h) { return Float.intBitsToFloat((h & 0xFFFF) << 16); }

    /** ||a - b|| / ||b|| of two tensors (read on the host), every element of a finite. */
    static double normRel(io.github.transformers4j.tensor.Tensor a, io.github.transformers4j.tensor.Tensor b) {
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        double d = 0, n = 0;
        for (int i = 0; i < x.length; i++) {
            assertThat(Float.isFinite(x[i])).as("element %d finite", i).isTrue();
            d += (x[i] - y[i]) * (double) (x[i] - y[i]);
            n += y[i] * (double) y[i];
        }
        return Math.sqrt(d / Math.max(n, 1e-30));
    }

    /** ||got - want|| / ||want|| over all elements; NaN when got holds a NaN. */
    static double relativeError(double[] got, double[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            double d = got[i] - want[i];
            num += d * d;
            den += want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }
}
