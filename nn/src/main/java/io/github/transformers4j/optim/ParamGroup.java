package io.github.transformers4j.optim;

import io.github.transformers4j.nn.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters that share optimizer options, like an entry of PyTorch's {@code optimizer.param_groups}: the options
 * are numbers under PyTorch's names ({@code lr}, {@code weight_decay}, {@code momentum}, {@code beta1}, ...,
 * booleans as 0/1). Options set here override the optimizer's defaults; the optimizer fills in the rest and adds
 * {@code initial_lr}, the base rate that {@link LrScheduler} scales. Schedules change {@code lr} through
 * {@link #lr(double)}.
 */
public final class ParamGroup {
    public static final String LR = "lr";
    public static final String INITIAL_LR = "initial_lr";
    public static final String WEIGHT_DECAY = "weight_decay";

    private final List<Parameter> params;
    private final LinkedHashMap<String, Double> options = new LinkedHashMap<>();

    private ParamGroup(List<Parameter> params) {
        this.params = List.copyOf(params);
    }

    public static ParamGroup of(List<Parameter> params) {
        return new ParamGroup(params);
    }

    public List<Parameter> params() {
        return params;
    }

    /** Sets an option (before construction: overrides the optimizer's default for this group). */
    public ParamGroup set(String key, double value) {
        options.put(key, value);
        return this;
    }

    public boolean has(String key) {
        return options.containsKey(key);
    }

    public double get(String key) {
        Double v = options.get(key);
        if (v == null) throw new IllegalArgumentException("param group has no option '" + key + "' (has " + options.keySet() + ")");
        return v;
    }

    public boolean flag(String key) {
        return get(key) != 0;
    }

    public Map<String, Double> options() {
        return Collections.unmodifiableMap(options);
    }

    public double lr() {
        return get(LR);
    }

    public ParamGroup lr(double lr) {
        return set(LR, lr);
    }

    public double weightDecay() {
        return get(WEIGHT_DECAY);
    }

    public ParamGroup weightDecay(double wd) {
        return set(WEIGHT_DECAY, wd);
    }

    /** Default options an optimizer fills into a group that lacks them. */
    void fillDefaults(Map<String, Double> defaults) {
        defaults.forEach(options::putIfAbsent);
        options.putIfAbsent(INITIAL_LR, options.get(LR));
    }

    @Override
    public String toString() {
        return "ParamGroup(" + params.size() + " params, " + options + ")";
    }
}
