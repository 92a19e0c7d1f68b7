package io.github.transformers4j.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The float-vector functions of the CPU kernels (exp, tanh, erf, GELU and its derivative, sigmoid, lane sums), giving
 * the same bits in every JIT tier. The Vector API's own {@code lanewise(EXP/TANH)} runs a vendor math library once C2
 * has compiled the loop but a per-lane fallback before, and {@code reduceLanes(ADD)} adds lanes in a different order
 * in the two; so a kernel's result changed while the JVM warmed up, and two training runs with the same seed drifted
 * apart. These use only IEEE basic operations (add, mul, div, fma, compare, conversions, shifts), which every tier
 * computes identically. Every method here is inlined into its caller in this package ({@link JitDirectives}): a
 * vector that crosses a call is boxed.
 */
public final class VecMath {
    static {
        JitDirectives.install();
    }

    private static final float EXP_HI = 88.72283905206835f, EXP_LO = -87.33654475f;
    private static final float LOG2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    private static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f,
            T3 = 1.33314422036e-1f, T4 = -3.33332819422e-1f;

    private static final float SQRT1_2 = (float) (1 / Math.sqrt(2)), INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));

    private VecMath() {}

    /** e^x per lane (Cephes expf: range reduction by ln 2 and a degree-6 polynomial; about 1 ulp). */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_LO).min(EXP_HI);
        FloatVector fx = c.mul(LOG2E).add(0.5f);
        FloatVector nf = (FloatVector) fx.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0); // truncation
        nf = nf.sub(1f, nf.compare(VectorOperators.GT, fx));            // floor for negative non-integers
        IntVector ni = (IntVector) nf.convert(VectorOperators.F2I, 0);
        FloatVector r = c.sub(nf.mul(C1)).sub(nf.mul(C2));
        FloatVector z = r.mul(r);
        FloatVector y = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5).mul(z).add(r).add(1f);
        // 2^n as 2^h * 2^(n - h), h = n >> 1: both factors stay normal floats for n in [-126, 128]
        IntVector h = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector e = y.mul(h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(ni.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        e = e.blend(0f, x.compare(VectorOperators.LT, EXP_LO));
        e = e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
        return e.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** The same function for one float, operation for operation (so a loop's scalar tail matches its vector body). */
    public static float exp(float x) {
        if (Float.isNaN(x)) return x;
        if (x > EXP_HI) return Float.POSITIVE_INFINITY;
        if (x < EXP_LO) return 0f;
        float fx = x * LOG2E + 0.5f;
        int ni = (int) fx;
        float nf = ni;
        if (nf > fx) {
            nf -= 1f;
            ni -= 1;
        }
        float r = x - nf * C1 - nf * C2;
        float z = r * r;
        float y = (((((r * P0 + P1) * r + P2) * r + P3) * r + P4) * r + P5) * z + r + 1f;
        int h = ni >> 1;
        return y * Float.intBitsToFloat((h + 127) << 23) * Float.intBitsToFloat((ni - h + 127) << 23);
    }

    /** tanh per lane (Cephes tanhf: an odd polynomial below |x| = 0.625, else 1 - 2 / (e^{2|x|} + 1)). */
    public static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector z = x.mul(x);
        FloatVector small = z.mul(T0).add(T1).mul(z).add(T2).mul(z).add(T3).mul(z).add(T4).mul(z).mul(x).add(x);
        FloatVector big = exp(ax.mul(2f)).add(1f);
        big = big.broadcast(1f).sub(big.broadcast(2f).div(big));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        return big.blend(small, ax.compare(VectorOperators.LT, 0.625f)).blend(x, x.test(VectorOperators.IS_NAN));
    }

    public static float tanh(float x) {
        if (Float.isNaN(x)) return x;
        float ax = Math.abs(x);
        if (ax < 0.625f) {
            float z = x * x;
            return ((((z * T0 + T1) * z + T2) * z + T3) * z + T4) * z * x + x;
        }
        float e = exp(ax * 2f) + 1f;
        float t = 1f - 2f / e;
        return x < 0 ? -t : t;
    }

    /** erf by Abramowitz-Stegun 7.1.26 (absolute error < 1.5e-7), enough for float32. */
    public static FloatVector erf(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector y = erfcPoly(ax).mul(exp(ax.mul(ax).neg())).neg().add(1f);
        return y.blend(y.neg(), x.compare(VectorOperators.LT, 0f));
    }

    /** A-S 7.1.26's polynomial in t = 1 / (1 + p |x|): erf(|x|) = 1 - poly * e^(-x^2). */
    private static FloatVector erfcPoly(FloatVector ax) {
        FloatVector t = ax.mul(0.3275911f).add(1f);
        t = t.broadcast(1f).div(t);
        return t.mul(1.061405429f).add(-1.453152027f).mul(t).add(1.421413741f).mul(t).add(-0.284496736f).mul(t)
                .add(0.254829592f).mul(t);
    }

    /** gelu(x) = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2. */
    public static FloatVector gelu(FloatVector v) {
        return v.mul(0.5f).mul(erf(v.mul(SQRT1_2)).add(1f));
    }

    /**
     * gelu'(x) = Phi(x) + x phi(x). One exp serves both terms: erf(x / sqrt 2)'s e^(-x^2 / 2) is sqrt(2 pi) phi(x).
     * It repeats erf's last steps rather than sharing more helpers with it: every inlined call adds parse nodes
     * (a vector box per value handed back), and with two more helpers C2 reached its node cutoff in the GELU loops,
     * left erf's part as a call and boxed every vector (GELU 6 -> 20 ms, its backward 11 -> 19 ms a vit-mini-p4 step).
     */
    public static FloatVector geluGrad(FloatVector v) {
        FloatVector az = v.mul(SQRT1_2).abs();
        FloatVector e = exp(az.mul(az).neg());                          // e^(-x^2 / 2)
        FloatVector erf = erfcPoly(az).mul(e).neg().add(1f);             // erf(|x| / sqrt 2)
        VectorMask<Float> neg = v.compare(VectorOperators.LT, 0f);
        FloatVector cdf = erf.blend(erf.neg(), neg).add(1f).mul(0.5f);   // Phi(x)
        return cdf.add(v.mul(e.mul(INV_SQRT_2PI)));
    }

    /** The tanh approximation of GELU (GPT-2's). */
    public static FloatVector geluTanh(FloatVector v) {
        FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul((float) Math.sqrt(2 / Math.PI));
        return v.mul(0.5f).mul(tanh(inner).add(1f));
    }

    public static FloatVector sigmoid(FloatVector v) {
        return v.broadcast(1f).div(exp(v.neg()).add(1f));
    }

    /** The lanes' sum, added in lane order in double precision. */
    public static double sum(FloatVector v) {
        float[] lanes = v.toArray();
        double s = 0;
        for (float f : lanes) s += f;
        return s;
    }
}
