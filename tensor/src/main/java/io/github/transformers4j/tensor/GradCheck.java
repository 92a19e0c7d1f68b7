package io.github.transformers4j.tensor;

import java.util.function.Function;

/**
 * Compares autograd gradients with central finite differences in F64 (as torch.autograd.gradcheck).
 * The function maps the inputs to one tensor; the check differentiates sum(f(x) * w) for a fixed random w so
 * every output element contributes with a different weight.
 */
public final class GradCheck {
    private GradCheck() {}

    /** Largest |analytic - numeric| / max(1, |numeric|) over every element of every input that requires grad. */
    public static double maxError(Function<Tensor[], Tensor> f, Tensor... inputs) {
        return maxError(f, 1e-6, inputs);
    }

    public static double maxError(Function<Tensor[], Tensor> f, double eps, Tensor... inputs) {
        Tensor[] xs = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i].dtype().isFloatingPoint() ? inputs[i].to(DType.F64).detach().clone() : inputs[i];
            if (inputs[i].requiresGrad()) x.requiresGrad(true);
            xs[i] = x;
        }
        Tensor out = f.apply(xs);
        Tensor w = Tensor.randn(new Random4j(1234), out.shape()).to(DType.F64);
        out.mul(w).sum().backward();
        double worst = 0;
        for (int i = 0; i < xs.length; i++) {
            if (!xs[i].requiresGrad()) continue;
            Tensor analytic = xs[i].grad();
            double[] a = analytic == null ? new double[(int) xs[i].numel()] : analytic.toDoubleArray();
            double[] base = xs[i].toDoubleArray();
            for (int k = 0; k < base.length; k++) {
                double num = (objective(f, xs, i, base, k, base[k] + eps, w) - objective(f, xs, i, base, k, base[k] - eps, w)) / (2 * eps);
                worst = Math.max(worst, Math.abs(a[k] - num) / Math.max(1, Math.abs(num)));
            }
        }
        return worst;
    }

    private static double objective(Function<Tensor[], Tensor> f, Tensor[] xs, int which, double[] base, int k, double value, Tensor w) {
        try (var g = Grad.disabled()) {
            double[] v = base.clone();
            v[k] = value;
            Tensor[] args = xs.clone();
            args[which] = Tensor.of(v, xs[which].shape());
            return f.apply(args).mul(w).sum().item();
        }
    }
}
