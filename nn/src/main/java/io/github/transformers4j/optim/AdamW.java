package io.github.transformers4j.optim;

import io.github.transformers4j.nn.Module;
import java.util.List;

/**
 * AdamW, like torch.optim.AdamW: Adam with decoupled weight decay, {@code p *= 1 - lr * weight_decay} before the
 * Adam update (the gradient is left alone). Options, state and formula otherwise as {@link Adam}.
 */
public final class AdamW extends Adam {
    /** PyTorch's AdamW defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01, no amsgrad. */
    public static Options options(double lr) {
        return new Options(lr, 0.9, 0.999, 1e-8, 0.01, false);
    }

    /** Every parameter of the model in one group. */
    public AdamW(Module model, Options options) {
        this(List.of(ParamGroup.of(model.parameters())), options);
    }

    public AdamW(List<ParamGroup> groups, Options options) {
        super("AdamW", groups, options, true);
    }
}
