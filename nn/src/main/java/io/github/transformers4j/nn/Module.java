package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Base of every layer and model, like torch.nn.Module: children, parameters and buffers registered under names that
 * become the state-dict keys ({@code encoder.layers.0.self_attn.in_proj_weight}), and a train/eval switch.
 * Subclasses register in their constructor and define their own {@code forward} signature.
 */
public abstract class Module {
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Parameter> buffers = new LinkedHashMap<>();
    private boolean training = true;

    protected <M extends Module> M register(String name, M child) {
        checkName(name);
        children.put(name, child);
        return child;
    }

    protected Parameter param(String name, Tensor value) {
        checkName(name);
        Parameter p = new Parameter(value, true);
        parameters.put(name, p);
        return p;
    }

    /** A non-trainable tensor saved in the state dict (e.g. fixed positional encodings). */
    protected Parameter buffer(String name, Tensor value) {
        checkName(name);
        Parameter p = new Parameter(value, false);
        buffers.put(name, p);
        return p;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("invalid submodule/parameter name '" + name + "'");
        if (children.containsKey(name) || parameters.containsKey(name) || buffers.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' registered twice");
        }
    }

    public Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** All parameters (trainable), depth first in registration order, with dotted names. */
    public LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        collect("", out, false);
        return out;
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    private void collect(String prefix, Map<String, Parameter> out, boolean withBuffers) {
        parameters.forEach((k, v) -> out.putIfAbsent(prefix + k, v));
        if (withBuffers) buffers.forEach((k, v) -> out.putIfAbsent(prefix + k, v));
        children.forEach((k, c) -> c.collect(prefix + k + ".", out, withBuffers));
    }

    /** Parameters and buffers by state-dict key (PyTorch's names). Shared parameters appear under their first name. */
    public LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Parameter> all = new LinkedHashMap<>();
        collectAll("", all);
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        all.forEach((k, p) -> out.put(k, p.data()));
        return out;
    }

    private void collectAll(String prefix, Map<String, Parameter> out) {
        parameters.forEach((k, v) -> out.put(prefix + k, v));
        buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.collectAll(prefix + k + ".", out));
    }

    /** Keys that did not load: missing from the source, not in the module, or with a different shape. */
    public record LoadResult(List<String> missing, List<String> unexpected, List<String> shapeMismatches) {
        public boolean ok() {
            return missing.isEmpty() && unexpected.isEmpty() && shapeMismatches.isEmpty();
        }

        /** At most five keys of each kind are named (a checkpoint of another model would list hundreds). */
        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (!missing.isEmpty()) parts.add(some(missing.size() + " missing key" + (missing.size() == 1 ? "" : "s"), missing));
            if (!unexpected.isEmpty()) parts.add(some(unexpected.size() + " unexpected key" + (unexpected.size() == 1 ? "" : "s"), unexpected));
            if (!shapeMismatches.isEmpty()) parts.add(some(shapeMismatches.size() + " shape mismatch" + (shapeMismatches.size() == 1 ? "" : "es"), shapeMismatches));
            return parts.isEmpty() ? "all keys match" : String.join("; ", parts);
        }

        private static String some(String what, List<String> keys) {
            return what + " (" + String.join(", ", keys.subList(0, Math.min(5, keys.size()))) + (keys.size() > 5 ? ", ..." : "") + ")";
        }
    }

    /** Copies values by key. Strict: any missing, unexpected or mismatched key throws, and nothing is loaded. */
    public LoadResult loadStateDict(Map<String, Tensor> state, boolean strict) {
        LinkedHashMap<String, Parameter> mine = new LinkedHashMap<>();
        collectAll("", mine);
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        for (String k : mine.keySet()) if (!state.containsKey(k)) missing.add(k);
        for (var e : state.entrySet()) {
            Parameter p = mine.get(e.getKey());
            if (p == null) unexpected.add(e.getKey());
            else if (!Arrays.equals(p.shape(), e.getValue().shape())) {
                mismatched.add(e.getKey() + ": expected " + Arrays.toString(p.shape()) + ", found " + Arrays.toString(e.getValue().shape()));
            }
        }
        LoadResult r = new LoadResult(missing, unexpected, mismatched);
        if (strict && !r.ok()) {
            throw new IllegalArgumentException("loadStateDict into " + getClass().getSimpleName() + ": " + r);
        }
        for (var e : state.entrySet()) {
            Parameter p = mine.get(e.getKey());
            if (p != null && Arrays.equals(p.shape(), e.getValue().shape())) p.copyFrom(e.getValue().to(p.data().device()));
        }
        return r;
    }

    public long numParameters() {
        return parameters().stream().mapToLong(Parameter::numel).sum();
    }

    public Module train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
        return this;
    }

    public Module train() {
        return train(true);
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /** Calls fn on every module, children first (like torch's Module.apply; used for init hooks). */
    public Module apply(Consumer<Module> fn) {
        children.values().forEach(c -> c.apply(fn));
        fn.accept(this);
        return this;
    }

    public void zeroGrad() {
        parameters().forEach(Parameter::zeroGrad);
    }

    /** Moves every parameter and buffer to the device. */
    public Module to(Device device) {
        LinkedHashMap<String, Parameter> all = new LinkedHashMap<>();
        collectAll("", all);
        all.values().forEach(p -> p.to(device));
        return this;
    }

    /** Converts every floating-point parameter and buffer to the dtype (e.g. F64 for gradient checks). */
    public Module to(DType dtype) {
        LinkedHashMap<String, Parameter> all = new LinkedHashMap<>();
        collectAll("", all);
        all.values().forEach(p -> p.to(dtype));
        return this;
    }

    /** Readable tree, one line per module with its parameter count. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        describe(sb, getClass().getSimpleName(), 0);
        return sb.toString();
    }

    private void describe(StringBuilder sb, String name, int depth) {
        sb.append("  ".repeat(depth)).append(name).append(" (").append(getClass().getSimpleName()).append(", ")
                .append(String.format("%,d", numParameters())).append(" params)\n");
        children.forEach((k, c) -> c.describe(sb, k, depth + 1));
    }
}
