package io.github.transformers4j.optim;

import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Capture;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Base of the optimizers, like torch.optim.Optimizer: parameter groups with their options, per-parameter state,
 * {@link #step()} over every parameter that has a gradient, and a state dict for checkpoints.
 *
 * <p>Updates run without autograd and in place on {@link Parameter#data()}. State tensors (momentum buffers,
 * moments) are allocated outside every memory scope, so {@code step()} may run inside the training step's scope.
 */
public abstract class Optimizer {
    /** One parameter's state: the number of updates it received and named tensors (PyTorch's names). */
    protected static final class State {
        long step;
        final LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();

        public long step() {
            return step;
        }

        /** The tensor under {@code name}, or null. */
        public Tensor get(String name) {
            return tensors.get(name);
        }

        /** The tensor under {@code name}, created as zeros like {@code p} (outside memory scopes) on first use. */
        public Tensor zerosLike(String name, Tensor p) {
            return tensors.computeIfAbsent(name, k -> Memory.unscoped(() -> Tensor.full(0, p.dtype(), p.device(), p.shape())));
        }

        /** Stores a copy of {@code t} (outside memory scopes) under {@code name}. */
        public Tensor putCopy(String name, Tensor t) {
            Tensor c = Memory.unscoped(t::clone);
            tensors.put(name, c);
            return c;
        }
    }

    private final String name;
    private final List<ParamGroup> groups;
    private final Set<String> optionKeys;
    private final Map<Parameter, State> state = new IdentityHashMap<>();

    /**
     * @param defaults every option this optimizer reads, with its default; a group may override any of them
     */
    protected Optimizer(String name, List<ParamGroup> groups, Map<String, Double> defaults) {
        this.name = name;
        this.groups = List.copyOf(groups);
        List<String> keys = new ArrayList<>(defaults.keySet());
        keys.add(ParamGroup.INITIAL_LR);
        this.optionKeys = Set.copyOf(keys);
        if (groups.isEmpty()) throw new IllegalArgumentException(name + ": no parameter groups given");
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            for (String k : group.options().keySet()) {
                if (!optionKeys.contains(k)) {
                    throw new IllegalArgumentException(name + ": param group " + g + " has unknown option '" + k + "' (known: " + defaults.keySet() + ")");
                }
            }
            for (Parameter p : group.params()) {
                if (!seen.add(p)) throw new IllegalArgumentException(name + ": " + p + " appears in more than one param group (or twice in group " + g + ")");
                if (!p.requiresGrad()) throw new IllegalArgumentException(name + ": " + p + " in param group " + g + " is a buffer (does not require grad)");
            }
            group.fillDefaults(defaults);
            validate(g, group);
        }
    }

    /** Checks a group's options (after defaults are filled); throws IllegalArgumentException naming the problem. */
    protected void validate(int index, ParamGroup group) {
        if (!(group.lr() >= 0)) throw new IllegalArgumentException(name + ": param group " + index + ": lr must be >= 0, got " + group.lr());
        if (!(group.weightDecay() >= 0)) {
            throw new IllegalArgumentException(name + ": param group " + index + ": weight_decay must be >= 0, got " + group.weightDecay());
        }
    }

    /** The state of {@code p}, created empty on first use (for optimizers that update many parameters in one pass). */
    protected State state(Parameter p) {
        return state.computeIfAbsent(p, k -> new State());
    }

    /** Updates one parameter with its gradient; {@code state.step()} already counts this update (from 1). */
    protected abstract void update(ParamGroup group, Parameter p, Tensor grad, State state);

    /** One update of every parameter that has a gradient (those without one are skipped, as in PyTorch). */
    public void step() {
        if (Capture.active() && groups.stream().flatMap(g -> g.params().stream()).anyMatch(p -> p.data().device().type() != Device.Type.CPU)) {
            // the per-parameter update passes the learning rate and step count as kernel arguments: a replay would repeat them
            throw new Capture.CaptureException(name + "'s per-parameter update cannot be replayed (its learning rate and step "
                    + "count are fixed at capture)");
        }
        try (var g = Grad.disabled()) {
            for (ParamGroup group : groups) {
                for (Parameter p : group.params()) {
                    Tensor grad = p.grad();
                    if (grad == null) continue;
                    if (!Arrays.equals(grad.shape(), p.shape())) {
                        throw new IllegalStateException(name + ": gradient shape " + Arrays.toString(grad.shape()) + " differs from parameter " + p);
                    }
                    State s = state.computeIfAbsent(p, k -> new State());
                    s.step++;
                    update(group, p, grad.dtype() == p.data().dtype() ? grad.contiguous() : grad.to(p.data().dtype()), s);
                }
            }
        }
    }

    /** Drops every gradient (PyTorch's default {@code set_to_none=True}). */
    public void zeroGrad() {
        for (ParamGroup group : groups) group.params().forEach(Parameter::zeroGrad);
    }

    public List<ParamGroup> paramGroups() {
        return groups;
    }

    /** Sets the learning rate of every group (schedules set it per group through {@link ParamGroup#lr(double)}). */
    public void setLr(double lr) {
        groups.forEach(g -> g.lr(lr));
    }

    /** The number of updates a parameter received (0 before its first). */
    public long stepCount(Parameter p) {
        State s = state.get(p);
        return s == null ? 0 : s.step;
    }

    /** A state tensor of a parameter by PyTorch's name ({@code exp_avg}, {@code momentum_buffer}, ...), or null. */
    public Tensor stateTensor(Parameter p, String name) {
        State s = state.get(p);
        return s == null ? null : s.get(name);
    }

    // ------------------------------------------------------------------ checkpoints

    /**
     * The optimizer's state as named tensors, PyTorch's state dict flattened (parameters numbered across groups in
     * order): {@code state.<i>.step} (I64 scalar) and {@code state.<i>.<name>} (exp_avg, momentum_buffer, ...) for
     * every parameter that has state; {@code param_groups.<g>.<option>} (F64 scalars) and
     * {@code param_groups.<g>.params} (I64 indices) for every group. Ready to save as safetensors.
     * The tensors are the live state (not copies).
     */
    public LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        int i = 0;
        for (ParamGroup group : groups) {
            for (Parameter p : group.params()) {
                State s = state.get(p);
                if (s != null) {
                    out.put("state." + i + ".step", Tensor.ofLongs(new long[] {s.step}));
                    int index = i;
                    s.tensors.forEach((k, t) -> out.put("state." + index + "." + k, t));
                }
                i++;
            }
        }
        i = 0;
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            for (var e : group.options().entrySet()) out.put("param_groups." + g + "." + e.getKey(), Tensor.of(new double[] {e.getValue()}));
            long[] idx = new long[group.params().size()];
            for (int k = 0; k < idx.length; k++) idx[k] = i++;
            out.put("param_groups." + g + ".params", Tensor.ofLongs(idx, idx.length));
        }
        return out;
    }

    /**
     * Restores {@link #stateDict()} output into an optimizer over the same parameters (same groups, same sizes):
     * group options, step counts and state tensors (copied to each parameter's dtype and device). Throws, changing
     * nothing, when the structure or a shape differs.
     */
    public void loadStateDict(Map<String, Tensor> sd) {
        List<Parameter> all = new ArrayList<>();
        groups.forEach(g -> all.addAll(g.params()));
        long savedGroups = sd.keySet().stream().filter(k -> k.startsWith("param_groups.") && k.endsWith(".params")).count();
        if (savedGroups != groups.size()) {
            throw new IllegalArgumentException(name + ".loadStateDict: the state dict has " + savedGroups + " param groups, this optimizer "
                    + groups.size());
        }
        Map<Integer, Map<String, Double>> options = new LinkedHashMap<>();
        Map<Integer, State> loaded = new LinkedHashMap<>();
        for (var e : sd.entrySet()) {
            String key = e.getKey();
            String[] parts = key.split("\\.", 3);
            if (parts.length != 3) throw new IllegalArgumentException(name + ".loadStateDict: unexpected key '" + key + "'");
            int index;
            try {
                index = Integer.parseInt(parts[1]);
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(name + ".loadStateDict: unexpected key '" + key + "'");
            }
            Tensor t = e.getValue();
            switch (parts[0]) {
                case "param_groups" -> {
                    if (index < 0 || index >= groups.size()) {
                        throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' but this optimizer has " + groups.size() + " param groups");
                    }
                    if (parts[2].equals("params")) {
                        int expected = groups.get(index).params().size();
                        if (t.numel() != expected) {
                            throw new IllegalArgumentException(name + ".loadStateDict: param group " + index + " has " + t.numel()
                                    + " parameters in the state dict but " + expected + " here");
                        }
                    } else if (!optionKeys.contains(parts[2])) {
                        throw new IllegalArgumentException(name + ".loadStateDict: unknown option '" + key + "' (known: " + optionKeys + ")");
                    } else {
                        options.computeIfAbsent(index, k -> new LinkedHashMap<>()).put(parts[2], t.item());
                    }
                }
                case "state" -> {
                    if (index < 0 || index >= all.size()) {
                        throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' but this optimizer has " + all.size() + " parameters");
                    }
                    State s = loaded.computeIfAbsent(index, k -> new State());
                    Tensor p = all.get(index).data();
                    if (parts[2].equals("step")) {
                        s.step = Math.round(t.item());
                    } else {
                        if (!Arrays.equals(t.shape(), p.shape())) {
                            throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' has shape " + Arrays.toString(t.shape())
                                    + " but parameter " + index + " has " + Arrays.toString(p.shape()));
                        }
                        s.tensors.put(parts[2], t);
                    }
                }
                default -> throw new IllegalArgumentException(name + ".loadStateDict: unexpected key '" + key + "'");
            }
        }
        for (int g = 0; g < groups.size(); g++) {
            if (!sd.containsKey("param_groups." + g + ".params")) {
                throw new IllegalArgumentException(name + ".loadStateDict: no 'param_groups." + g + ".params'");
            }
        }
        // everything checked: apply
        options.forEach((g, opts) -> opts.forEach((k, v) -> groups.get(g).set(k, v)));
        state.clear();
        loaded.forEach((i, s) -> {
            Tensor p = all.get(i).data();
            State copy = new State();
            copy.step = s.step;
            s.tensors.forEach((k, t) -> copy.tensors.put(k, Memory.unscoped(() -> t.to(p.dtype()).to(p.device()).clone())));
            state.put(all.get(i), copy);
        });
    }
}
