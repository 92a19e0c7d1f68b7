package io.github.transformers4j.optim;

import io.github.transformers4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies an {@link LrSchedule} to every group of an optimizer, scaling each group's {@code initial_lr}. As with
 * PyTorch's schedulers, construction sets the rate for step 0 and {@link #step()} follows each
 * {@code optimizer.step()}:
 * <pre>{@code
 * var sched = new LrScheduler(opt, LrSchedule.cosine(LrSchedule.Warmup.ratio(0.1, total), total, 0));
 * for (...) { loss.backward(); opt.step(); opt.zeroGrad(); sched.step(); }
 * }</pre>
 */
public final class LrScheduler {
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private long step;

    public LrScheduler(Optimizer optimizer, LrSchedule schedule) {
        this.optimizer = optimizer;
        this.schedule = schedule;
        apply();
    }

    /** Advances to the next optimizer step and sets its rates. */
    public void step() {
        step++;
        apply();
    }

    /** The optimizer step whose rates are set now (0 before the first {@link #step()}). */
    public long currentStep() {
        return step;
    }

    /** The rates now set, one per group. */
    public List<Double> lastLr() {
        return optimizer.paramGroups().stream().map(ParamGroup::lr).toList();
    }

    private void apply() {
        for (ParamGroup g : optimizer.paramGroups()) g.lr(schedule.lr(step, g.get(ParamGroup.INITIAL_LR)));
    }

    /** {@code {"step": I64 scalar}}: the schedule itself is code, rebuilt by the caller. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("step", Tensor.ofLongs(new long[] {step}));
        return out;
    }

    /** Restores the step and sets the rates for it. */
    public void loadStateDict(Map<String, Tensor> sd) {
        Tensor s = sd.get("step");
        if (s == null || sd.size() != 1) throw new IllegalArgumentException("LrScheduler.loadStateDict: expected only key 'step', got " + sd.keySet());
        step = Math.round(s.item());
        apply();
    }
}
