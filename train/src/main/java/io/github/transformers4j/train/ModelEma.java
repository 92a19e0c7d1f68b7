package io.github.transformers4j.train;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An exponential moving average of a model's trained weights, timm's {@code ModelEmaV2}: after every optimizer
 * update, {@code ema = decay * ema + (1 - decay) * weight} for each parameter that requires grad. It wraps the run's
 * {@link Optimization}, so the average is updated inside the step (a captured GPU step holds it: no host transfer)
 * and checkpointed with the optimizer's state (tensors {@code ema.<parameter name>}, restored on resume).
 * {@link #evaluationWeights()} puts the average in place of the trained weights until closed: the training loop
 * validates with it, and {@link Checkpoint#weights()} gives it to the test pass, {@code t4j evaluate} and
 * {@code t4j predict}.
 *
 * <p>The decay is constant (no warm-up): it suits runs of many times {@code 1 / (1 - decay)} steps (0.999: a few
 * thousand; timm's ViT recipes use 0.9998 and more over hundreds of thousands).
 */
public final class ModelEma implements Optimization {
    /** The optimizer-state prefix of the averaged weights. */
    public static final String PREFIX = "ema.";

    private final Optimization inner;
    private final double decay;
    private final List<String> names = new ArrayList<>();
    private final List<Parameter> params = new ArrayList<>();
    private final List<Tensor> average = new ArrayList<>();

    /** Averages the parameters of {@code model} that require grad, starting from their current values. */
    public ModelEma(Optimization inner, Module model, double decay) {
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("--ema: the decay must be in [0, 1), got " + decay);
        this.inner = inner;
        this.decay = decay;
        model.namedParameters().forEach((name, p) -> {
            if (!p.requiresGrad()) return;
            names.add(name);
            params.add(p);
            average.add(Memory.unscoped(() -> p.data().detach().clone()).keep());
        });
    }

    public double decay() {
        return decay;
    }

    @Override
    public double lr(long step) {
        return inner.lr(step);
    }

    @Override
    public void step(long step) {
        inner.step(step);
        try (var g = Grad.disabled()) {
            for (int i = 0; i < params.size(); i++) average.get(i).mul_(decay).add_(params.get(i).data(), 1 - decay);
        }
    }

    @Override
    public Tensor lastGradNorm() {
        return inner.lastGradNorm();
    }

    @Override
    public void zeroGrad() {
        inner.zeroGrad();
    }

    /** The averaged weights in place of the trained ones (copied in, the trained ones kept aside) until closed. */
    @Override
    public Restore evaluationWeights() {
        List<Tensor> trained = new ArrayList<>(params.size());
        try (var g = Grad.disabled()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor w = params.get(i).data();
                trained.add(Memory.unscoped(() -> w.detach().clone()));
                w.copy_(average.get(i));
            }
        }
        return () -> {
            try (var g = Grad.disabled()) {
                for (int i = 0; i < params.size(); i++) {
                    params.get(i).data().copy_(trained.get(i));
                    trained.get(i).release();
                }
            }
        };
    }

    /** The averaged weights by parameter name (the tensors themselves: live views of the average). */
    public Map<String, Tensor> averages() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) m.put(names.get(i), average.get(i));
        return m;
    }

    @Override
    public Map<String, Tensor> stateTensors() {
        Map<String, Tensor> s = new LinkedHashMap<>(inner.stateTensors());
        averages().forEach((k, v) -> s.put(PREFIX + k, v));
        return s;
    }

    @Override
    public String stateJson() {
        return inner.stateJson();
    }

    @Override
    public void loadState(Map<String, Tensor> tensors, String json) {
        Map<String, Tensor> rest = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (!k.startsWith(PREFIX)) rest.put(k, v);
        });
        try (var g = Grad.disabled()) {
            for (int i = 0; i < names.size(); i++) {
                Tensor t = tensors.get(PREFIX + names.get(i));
                if (t == null) {
                    throw new IllegalArgumentException("resume: the checkpoint has no moving average of " + names.get(i)
                            + " (was the run trained without --ema?)");
                }
                average.get(i).copy_(t);
            }
        }
        inner.loadState(rest, json);
    }
}
