package io.github.transformers4j.nn.init;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * torch.nn.init: fills a tensor in place (no autograd) and returns it. The formulas are PyTorch's; the numbers come
 * from {@link Random4j} (so they differ from PyTorch's, but are the same on every device and thread count).
 *
 * <p>Defaults used by the layers, as in PyTorch: Linear and Conv2d weights {@code kaimingUniform_(w, sqrt(5))}, which is
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for their bias ({@link #fanInUniform_}); Embedding N(0, 1);
 * LayerNorm ones/zeros; MultiheadAttention {@code xavierUniform_} on in_proj_weight, zeros on both biases.
 */
public final class Init {
    private Init() {}

    public enum FanMode { FAN_IN, FAN_OUT }

    /** (fan_in, fan_out) of a weight: dim 1 resp. dim 0 times the receptive field (the product of dims 2..). */
    public static int[] fanInAndFanOut(int[] shape) {
        if (shape.length < 2) {
            throw new IllegalArgumentException("init: fan in and fan out need at least 2 dims, got " + Arrays.toString(shape));
        }
        int receptive = 1;
        for (int i = 2; i < shape.length; i++) receptive *= shape[i];
        return new int[] {shape[1] * receptive, shape[0] * receptive};
    }

    /** torch.nn.init.calculate_gain: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + a^2)), selu 3/4. */
    public static double calculateGain(String nonlinearity, double param) {
        return switch (nonlinearity) {
            case "linear", "conv1d", "conv2d", "conv3d", "sigmoid", "identity" -> 1;
            case "tanh" -> 5.0 / 3;
            case "relu" -> Math.sqrt(2);
            case "leaky_relu" -> Math.sqrt(2 / (1 + param * param));
            case "selu" -> 0.75;
            default -> throw new IllegalArgumentException("calculateGain: unsupported nonlinearity '" + nonlinearity + "'");
        };
    }

    /** Copies {@code values} into {@code t} in place, bypassing autograd (t may be a parameter leaf). */
    private static Tensor fill(Tensor t, Tensor values) {
        try (var g = Grad.disabled()) {
            t.copy_(values.to(t.dtype()));
        }
        return t;
    }

    public static Tensor uniform_(Tensor t, double low, double high, Random4j rng) {
        Tensor u = Tensor.rand(rng, t.shape());
        if (t.dtype() == DType.F64) u = u.to(DType.F64);
        return fill(t, u.mul(high - low).add(low));
    }

    public static Tensor normal_(Tensor t, double mean, double std, Random4j rng) {
        Tensor n = Tensor.randn(rng, t.shape());
        if (t.dtype() == DType.F64) n = n.to(DType.F64);
        return fill(t, n.mul(std).add(mean));
    }

    public static Tensor constant_(Tensor t, double value) {
        try (var g = Grad.disabled()) {
            t.fill_(value);
        }
        return t;
    }

    public static Tensor zeros_(Tensor t) {
        return constant_(t, 0);
    }

    public static Tensor ones_(Tensor t) {
        return constant_(t, 1);
    }

    /** U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)). */
    public static Tensor xavierUniform_(Tensor t, double gain, Random4j rng) {
        int[] f = fanInAndFanOut(t.shape());
        double bound = gain * Math.sqrt(6.0 / (f[0] + f[1]));
        return uniform_(t, -bound, bound, rng);
    }

    /** N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
    public static Tensor xavierNormal_(Tensor t, double gain, Random4j rng) {
        int[] f = fanInAndFanOut(t.shape());
        return normal_(t, 0, gain * Math.sqrt(2.0 / (f[0] + f[1])), rng);
    }

    /** U(-b, b) with b = gain * sqrt(3 / fan), gain = calculateGain(nonlinearity, a). */
    public static Tensor kaimingUniform_(Tensor t, double a, FanMode mode, String nonlinearity, Random4j rng) {
        int[] f = fanInAndFanOut(t.shape());
        int fan = mode == FanMode.FAN_IN ? f[0] : f[1];
        double bound = calculateGain(nonlinearity, a) * Math.sqrt(3.0 / fan);
        return uniform_(t, -bound, bound, rng);
    }

    /** PyTorch's default for Linear/Conv weights: kaiming_uniform_(w, a=a), fan_in, leaky_relu. */
    public static Tensor kaimingUniform_(Tensor t, double a, Random4j rng) {
        return kaimingUniform_(t, a, FanMode.FAN_IN, "leaky_relu", rng);
    }

    public static Tensor kaimingNormal_(Tensor t, double a, FanMode mode, String nonlinearity, Random4j rng) {
        int[] f = fanInAndFanOut(t.shape());
        int fan = mode == FanMode.FAN_IN ? f[0] : f[1];
        return normal_(t, 0, calculateGain(nonlinearity, a) / Math.sqrt(fan), rng);
    }

    /** Bias of Linear/Conv: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the fan in of {@code weightShape} (zeros if fan_in is 0). */
    public static Tensor fanInUniform_(Tensor bias, int[] weightShape, Random4j rng) {
        int fanIn = fanInAndFanOut(weightShape)[0];
        if (fanIn == 0) return zeros_(bias);
        double bound = 1 / Math.sqrt(fanIn);
        return uniform_(bias, -bound, bound, rng);
    }

    /**
     * N(mean, std^2) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_, default [-2, 2]): inverse-CDF
     * sampling of a uniform draw between CDF(a) and CDF(b), then clamped to [a, b]. Computed on the host.
     */
    public static Tensor truncNormal_(Tensor t, double mean, double std, double a, double b, Random4j rng) {
        if (!(a < b)) throw new IllegalArgumentException("truncNormal_: need a < b, got [" + a + ", " + b + "]");
        double lo = normalCdf((a - mean) / std), hi = normalCdf((b - mean) / std);
        double[] u = Tensor.rand(rng, t.shape()).to(DType.F64).toDoubleArray();
        for (int i = 0; i < u.length; i++) {
            double p = lo + (hi - lo) * u[i];
            double x = mean + std * inverseNormalCdf(Math.min(Math.max(p, 1e-300), 1 - 1e-16));
            u[i] = Math.min(Math.max(x, a), b);
        }
        return fill(t, Tensor.of(u, t.shape()));
    }

    public static Tensor truncNormal_(Tensor t, double std, Random4j rng) {
        return truncNormal_(t, 0, std, -2, 2, rng);
    }

    static double normalCdf(double x) {
        return 0.5 * erfc(-x / Math.sqrt(2));
    }

    /** erfc with relative error below 1.2e-7 everywhere (Numerical Recipes' erfcc), enough to bound a truncation. */
    private static double erfc(double x) {
        double z = Math.abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /** Acklam's rational approximation of the standard normal quantile (relative error below 1.2e-9). */
    static double inverseNormalCdf(double p) {
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
        double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
        double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        double x, q;
        if (p < 0.02425) {
            q = Math.sqrt(-2 * Math.log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        } else if (p <= 1 - 0.02425) {
            q = p - 0.5;
            double r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                    / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        } else {
            q = Math.sqrt(-2 * Math.log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        return x;
    }
}
