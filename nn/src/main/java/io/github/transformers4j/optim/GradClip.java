package io.github.transformers4j.optim;

import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Gradient clipping, like torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales every gradient in place by {@code min(1, maxNorm / (total + 1e-6))}, where total is the L2 norm of all
     * gradients together (parameters without a gradient are skipped). Returns the total norm before clipping
     * (NaN or infinite when a gradient is; the gradients are then scaled by NaN or 0, as in PyTorch).
     */
    public static double clipGradNorm(Iterable<Parameter> parameters, double maxNorm) {
        List<Tensor> grads = new ArrayList<>();
        for (Parameter p : parameters) if (p.grad() != null) grads.add(p.grad());
        if (grads.isEmpty()) return 0;
        try (var g = Grad.disabled()) {
            // per-tensor sums of squares, then one host read
            List<Tensor> sums = new ArrayList<>(grads.size());
            for (Tensor gr : grads) sums.add(gr.square().sum().reshape(1));
            double total = Math.sqrt(Tensor.cat(sums, 0).sum().item());
            double coef = Math.min(1.0, maxNorm / (total + 1e-6));
            if (coef != 1.0) {
                for (Tensor gr : grads) {
                    if (gr.isContiguous()) gr.mul_(coef);
                    else gr.copy_(gr.mul(coef));
                }
            }
            return total;
        }
    }

    /**
     * {@link #clipGradNorm} without reading anything back to the host, as PyTorch does on a GPU: the coefficient
     * {@code min(1, maxNorm / (total + 1e-6))} is computed on the device and every gradient is multiplied by it (also
     * when it is 1); one pass over all gradients where the backend offers it ({@link NnOps#clipGradNorm_}). Returns
     * the total norm as a one-element device tensor (null without gradients). A captured step clips this way.
     */
    public static Tensor clipGradNormOnDevice(Iterable<Parameter> parameters, double maxNorm) {
        List<Tensor> grads = new ArrayList<>();
        for (Parameter p : parameters) if (p.grad() != null) grads.add(p.grad());
        if (grads.isEmpty()) return null;
        return NnOps.clipGradNorm_(grads, maxNorm).narrow(0, 0, 1);
    }
}
