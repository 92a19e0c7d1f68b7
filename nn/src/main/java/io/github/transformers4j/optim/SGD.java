package io.github.transformers4j.optim;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with momentum, like torch.optim.SGD (PyTorch's exact update):
 * <pre>
 * g = grad + weight_decay * p
 * buf = g                                  (first step)
 * buf = momentum * buf + (1 - dampening) * g   (later steps)
 * g = nesterov ? g + momentum * buf : buf      (when momentum != 0)
 * p -= lr * g
 * </pre>
 * Group options: {@code lr}, {@code momentum}, {@code dampening}, {@code nesterov} (0/1), {@code weight_decay}.
 * State: {@code momentum_buffer}.
 */
public final class SGD extends Optimizer {
    public record Options(double lr, double momentum, double dampening, boolean nesterov, double weightDecay) {
        public Options momentum(double m) {
            return new Options(lr, m, dampening, nesterov, weightDecay);
        }

        public Options dampening(double d) {
            return new Options(lr, momentum, d, nesterov, weightDecay);
        }

        public Options nesterov(boolean on) {
            return new Options(lr, momentum, dampening, on, weightDecay);
        }

        public Options weightDecay(double wd) {
            return new Options(lr, momentum, dampening, nesterov, wd);
        }

        Map<String, Double> defaults() {
            Map<String, Double> d = new LinkedHashMap<>();
            d.put(ParamGroup.LR, lr);
            d.put("momentum", momentum);
            d.put("dampening", dampening);
            d.put("nesterov", nesterov ? 1.0 : 0.0);
            d.put(ParamGroup.WEIGHT_DECAY, weightDecay);
            return d;
        }
    }

    /** PyTorch's defaults: no momentum, no dampening, no Nesterov, no weight decay. */
    public static Options options(double lr) {
        return new Options(lr, 0, 0, false, 0);
    }

    /** Every parameter of the model in one group. */
    public SGD(Module model, Options options) {
        this(List.of(ParamGroup.of(model.parameters())), options);
    }

    public SGD(List<ParamGroup> groups, Options options) {
        super("SGD", groups, options.defaults());
    }

    @Override
    protected void validate(int index, ParamGroup group) {
        super.validate(index, group);
        if (!(group.get("momentum") >= 0)) throw new IllegalArgumentException("SGD: param group " + index + ": momentum must be >= 0, got " + group.get("momentum"));
        if (group.flag("nesterov") && (group.get("momentum") <= 0 || group.get("dampening") != 0)) {
            throw new IllegalArgumentException("SGD: param group " + index + ": Nesterov momentum requires momentum > 0 and dampening 0, got momentum "
                    + group.get("momentum") + ", dampening " + group.get("dampening"));
        }
    }

    @Override
    protected void update(ParamGroup group, Parameter param, Tensor grad, State state) {
        Tensor p = param.data();
        double wd = group.weightDecay(), momentum = group.get("momentum");
        Tensor d = wd != 0 ? grad.add(p.mul(wd)) : grad;
        if (momentum != 0) {
            Tensor buf = state.get("momentum_buffer");
            if (buf == null) {
                buf = state.putCopy("momentum_buffer", d);
            } else {
                buf.mul_(momentum).add_(d, 1 - group.get("dampening"));
            }
            d = group.flag("nesterov") ? d.add(buf.mul(momentum)) : buf;
        }
        p.add_(d, -group.lr());
    }
}
