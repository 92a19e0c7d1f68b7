package io.github.transformers4j.optim;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Capture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam, like torch.optim.Adam: L2 weight decay added to the gradient ({@code g + weight_decay * p}); see
 * {@link AdamW} for decoupled decay. With step t counted from 1:
 * <pre>
 * m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
 * denom = sqrt(v) / sqrt(1 - beta2^t) + eps          (amsgrad: v_max = max(v_max, v) in place of v)
 * p -= lr / (1 - beta1^t) * m / denom
 * </pre>
 * Group options: {@code lr}, {@code beta1}, {@code beta2}, {@code eps}, {@code weight_decay}, {@code amsgrad} (0/1).
 * State: {@code exp_avg}, {@code exp_avg_sq} (and {@code max_exp_avg_sq} with amsgrad), plus the step count.
 * Without amsgrad the update is the fused {@link NnOps#adamStep}.
 */
public class Adam extends Optimizer {
    public record Options(double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        public Options betas(double b1, double b2) {
            return new Options(lr, b1, b2, eps, weightDecay, amsgrad);
        }

        public Options eps(double e) {
            return new Options(lr, beta1, beta2, e, weightDecay, amsgrad);
        }

        public Options weightDecay(double wd) {
            return new Options(lr, beta1, beta2, eps, wd, amsgrad);
        }

        public Options amsgrad(boolean on) {
            return new Options(lr, beta1, beta2, eps, weightDecay, on);
        }

        Map<String, Double> defaults() {
            Map<String, Double> d = new LinkedHashMap<>();
            d.put(ParamGroup.LR, lr);
            d.put("beta1", beta1);
            d.put("beta2", beta2);
            d.put("eps", eps);
            d.put(ParamGroup.WEIGHT_DECAY, weightDecay);
            d.put("amsgrad", amsgrad ? 1.0 : 0.0);
            return d;
        }
    }

    /** PyTorch's Adam defaults: betas (0.9, 0.999), eps 1e-8, no weight decay, no amsgrad. */
    public static Options options(double lr) {
        return new Options(lr, 0.9, 0.999, 1e-8, 0, false);
    }

    private final boolean decoupled;

    /** Every parameter of the model in one group. */
    public Adam(Module model, Options options) {
        this(List.of(ParamGroup.of(model.parameters())), options);
    }

    public Adam(List<ParamGroup> groups, Options options) {
        this("Adam", groups, options, false);
    }

    Adam(String name, List<ParamGroup> groups, Options options, boolean decoupled) {
        super(name, groups, options.defaults());
        this.decoupled = decoupled;
    }

    @Override
    protected void validate(int index, ParamGroup group) {
        super.validate(index, group);
        for (String beta : new String[] {"beta1", "beta2"}) {
            double b = group.get(beta);
            if (!(b >= 0 && b < 1)) throw new IllegalArgumentException(getClass().getSimpleName() + ": param group " + index + ": " + beta + " must be in [0, 1), got " + b);
        }
        if (!(group.get("eps") >= 0)) throw new IllegalArgumentException(getClass().getSimpleName() + ": param group " + index + ": eps must be >= 0, got " + group.get("eps"));
    }

    /** The last multi-tensor step's parameters and its device scalars (kept while the parameter set stays the same). */
    private List<Tensor> multiParams = List.of();
    private Tensor hyper;

    /**
     * One update of every parameter that has a gradient. Where the backend offers a multi-tensor Adam kernel
     * ({@link NnOps#adamStepMulti}: F32 parameters on one GPU, no amsgrad) this is one pass over all parameters,
     * with the step counts and learning rates written to a device buffer (host work that a captured step redoes
     * before every replay, see {@link Capture#onReplay}); the result is the same, bit for bit, as the per-parameter
     * update.
     */
    @Override
    public void step() {
        List<Parameter> params = new ArrayList<>();
        List<ParamGroup> owners = new ArrayList<>();
        for (ParamGroup group : paramGroups()) {
            if (group.flag("amsgrad")) {
                super.step();
                return;
            }
            for (Parameter p : group.params()) {
                if (p.grad() == null) continue;
                params.add(p);
                owners.add(group);
            }
        }
        if (params.isEmpty() || params.get(0).data().device().type() == Device.Type.CPU) {
            super.step();
            return;
        }
        try (var off = Grad.disabled()) {
            List<Tensor> ps = new ArrayList<>(), gs = new ArrayList<>(), ms = new ArrayList<>(), vs = new ArrayList<>();
            List<State> states = new ArrayList<>();
            for (Parameter param : params) {
                Tensor p = param.data(), g = param.grad();
                if (!Arrays.equals(g.shape(), p.shape())) {
                    throw new IllegalStateException(getClass().getSimpleName() + ": gradient shape " + Arrays.toString(g.shape())
                            + " differs from parameter " + param);
                }
                State s = state(param);
                ps.add(p);
                gs.add(g);
                ms.add(s.zerosLike("exp_avg", p));
                vs.add(s.zerosLike("exp_avg_sq", p));
                states.add(s);
            }
            if (!ps.equals(multiParams) || hyper == null) {
                multiParams = List.copyOf(ps);
                Device device = ps.get(0).device();
                hyper = Memory.unscoped(() -> Tensor.full(0, DType.F64, device, 8 * ps.size())).keep();
            }
            Tensor h = hyper;
            if (!NnOps.adamStepMultiOffered(ps, gs, ms, vs)) {
                super.step();
                return;
            }
            // the upload is queued before the kernel: the scalars reach the device before it reads them
            double[] scalars = new double[8 * ps.size()];
            Capture.onReplay(() -> {
                for (int i = 0; i < ps.size(); i++) {
                    ParamGroup group = owners.get(i);
                    State s = states.get(i);
                    s.step++;
                    NnOps.adamScalars(scalars, i, group.lr(), group.get("beta1"), group.get("beta2"), group.get("eps"),
                            group.weightDecay(), s.step(), decoupled);
                }
                h.copyFrom(scalars);
            });
            NnOps.adamStepMulti(ps, gs, ms, vs, h);
        }
    }

    @Override
    protected void update(ParamGroup group, Parameter param, Tensor grad, State state) {
        Tensor p = param.data();
        double lr = group.lr(), b1 = group.get("beta1"), b2 = group.get("beta2"), eps = group.get("eps"), wd = group.weightDecay();
        Tensor m = state.zerosLike("exp_avg", p), v = state.zerosLike("exp_avg_sq", p);
        long t = state.step();
        if (!group.flag("amsgrad")) {
            NnOps.adamStep(p, grad, m, v, lr, b1, b2, eps, wd, t, decoupled);
            return;
        }
        Tensor vMax = state.zerosLike("max_exp_avg_sq", p);
        Tensor g = grad;
        if (wd != 0) {
            if (decoupled) p.mul_(1 - lr * wd);
            else g = g.add(p.mul(wd));
        }
        m.mul_(b1).add_(g, 1 - b1);
        v.mul_(b2).add_(g.mul(g), 1 - b2);
        vMax.copy_(vMax.maximum(v));
        double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
        Tensor denom = vMax.sqrt().div(Math.sqrt(bc2)).add(eps);
        p.add_(m.div(denom), -lr / bc1);
    }
}
