package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;

/**
 * A module's learnable tensor (or, with {@code requiresGrad == false}, a buffer). The holder stays put while its
 * tensor may be replaced (loading, device moves), so optimizers keep referring to the same Parameter.
 */
public final class Parameter {
    private Tensor data;
    private final boolean requiresGrad;

    public Parameter(Tensor data) {
        this(data, true);
    }

    public Parameter(Tensor data, boolean requiresGrad) {
        this.requiresGrad = requiresGrad;
        set(data);
    }

    /** The current tensor: a leaf that requires grad (for a trainable parameter), outside every memory scope. */
    public Tensor data() {
        return data;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Replaces the tensor (e.g. after loading); it is detached, kept and marked as requiring grad. */
    public void set(Tensor t) {
        Tensor d = t.isLeaf() && !t.requiresGrad() ? t : t.detach();
        d.keep();
        if (requiresGrad) d.requiresGrad(true);
        this.data = d;
    }

    /** Copies values in place (shapes must match), keeping the tensor object optimizers hold. */
    public void copyFrom(Tensor src) {
        try (var g = Grad.disabled()) {
            data.copy_(src.to(data.dtype()));
        }
    }

    public Tensor grad() {
        return data.grad();
    }

    /** Sets the gradient ({@code p.grad = g}): same shape, dtype and device as the parameter, or null to drop it. */
    public void setGrad(Tensor g) {
        data.setGrad(g);
    }

    /** Drops the gradient and returns its memory (set_to_none): the next backward allocates a fresh one. */
    public void zeroGrad() {
        data.clearGrad();
    }

    public int[] shape() {
        return data.shape();
    }

    public long numel() {
        return data.numel();
    }

    public void to(Device device) {
        if (!data.device().equals(device)) set(Memory.unscoped(() -> data.detach().to(device)));
    }

    /** Converts a floating-point tensor to the dtype (integer and boolean buffers stay as they are). */
    public void to(DType dtype) {
        if (data.dtype().isFloatingPoint() && data.dtype() != dtype) set(Memory.unscoped(() -> data.detach().to(dtype)));
    }

    @Override
    public String toString() {
        return "Parameter" + java.util.Arrays.toString(data.shape());
    }
}
