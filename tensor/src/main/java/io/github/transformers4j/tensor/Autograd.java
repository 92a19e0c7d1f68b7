package io.github.transformers4j.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The define-by-run tape: recording (by ops) and the reverse pass; {@link #grad} is {@code torch.autograd.grad}. */
public final class Autograd {
    private Autograd() {}

    static boolean needsGrad(Tensor... inputs) {
        if (!Grad.isEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad) return true;
        return false;
    }

    /** Attaches a backward to {@code out} if any input requires grad; returns out. */
    static Tensor record(String op, Tensor out, Node.Backward backward, Tensor... inputs) {
        if (needsGrad(inputs)) {
            out.requiresGrad = true;
            out.gradFn = new Node(op, inputs, backward);
        }
        return out;
    }

    static void backward(Tensor root, Tensor gradRoot) {
        reverse(root, gradRoot, null);
    }

    /**
     * The gradients of {@code output} (weighted by {@code gradOutput}, as {@code backward(gradOutput)}) with respect
     * to {@code inputs}, as {@code torch.autograd.grad(output, inputs, grad_outputs)}: returned instead of accumulated,
     * so no tensor's {@link Tensor#grad()} changes. An input the output does not depend on gets null
     * ({@code allow_unused=True}). The gradients carry no graph ({@code create_graph=False}).
     *
     * @param output a tensor that requires grad
     * @param gradOutput the same shape as output; null for a one-element output (then 1)
     * @param inputs tensors that require grad (leaves or intermediate results of output's graph)
     */
    public static Tensor[] grad(Tensor output, Tensor gradOutput, Tensor... inputs) {
        if (gradOutput == null) {
            if (output.numel() != 1)
                throw new IllegalArgumentException("Autograd.grad: output " + Shape.str(output.shape()) + " has " + output.numel()
                        + " elements: give gradOutput of that shape (grad can be implicitly created only for one element)");
            gradOutput = Tensor.full(1, output.dtype(), output.device(), output.shape());
        }
        Map<Tensor, Tensor> wanted = new IdentityHashMap<>();
        for (int i = 0; i < inputs.length; i++) {
            if (!inputs[i].requiresGrad)
                throw new IllegalArgumentException("Autograd.grad: input " + i + " " + Shape.str(inputs[i].shape()) + " does not require grad");
            wanted.put(inputs[i], null);
        }
        reverse(output, gradOutput, wanted);
        Tensor[] out = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) out[i] = wanted.get(inputs[i]);
        return out;
    }

    /**
     * The reverse pass from root. {@code wanted} null: gradients accumulate into leaves (and retaining tensors), as
     * backward; otherwise the complete gradient of each key is stored as its value and nothing accumulates.
     */
    private static void reverse(Tensor root, Tensor gradRoot, Map<Tensor, Tensor> wanted) {
        if (!root.requiresGrad) {
            throw new IllegalStateException("backward: tensor " + Shape.str(root.shape())
                    + " does not require grad (no input had requiresGrad(true), or it was computed under Grad.disabled())");
        }
        if (!Arrays.equals(gradRoot.shape(), root.shape())) {
            throw new IllegalArgumentException("backward: gradient shape " + Shape.str(gradRoot.shape())
                    + " does not match tensor shape " + Shape.str(root.shape()));
        }
        // a gradient of another dtype (bf16 for an fp32 output under autocast) is converted, as PyTorch's engine does:
        // the backward functions read it as their output's dtype
        if (gradRoot.dtype() != root.dtype()) gradRoot = gradRoot.to(root.dtype());
        List<Tensor> order = topologicalOrder(root);
        Set<Storage> adopted = Collections.newSetFromMap(new IdentityHashMap<>());
        long firstSerial = Storage.nextSerial(); // storage older than the pass may be the caller's: never adopted
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, gradRoot);
        try (var g = Grad.disabled()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor grad = grads.remove(t);
                if (grad == null) continue;
                if (wanted != null) {
                    // every consumer of t comes later in the order: its gradient is complete here
                    if (wanted.containsKey(t)) wanted.put(t, Memory.unscoped(grad::clone));
                } else if (t.gradFn == null || t.retainsGrad) {
                    accumulateInto(t, grad, adopted, firstSerial);
                }
                if (t.gradFn == null) continue;
                Node node = t.gradFn;
                // each node's backward in its own scope: its temporaries are released when it returns, its input
                // gradients move to the enclosing scope (the peak memory of a step is then the saved activations plus a
                // few gradients, not every temporary of the backward pass)
                Tensor[] inGrads;
                List<Tensor> replaced = new ArrayList<>(0);
                try (var nodeScope = Memory.scope()) {
                    inGrads = node.backward.apply(grad);
                    for (int k = 0; k < node.inputs.length; k++) {
                        Tensor in = node.inputs[k];
                        if (in == null || !in.requiresGrad || inGrads[k] == null) continue;
                        Tensor gi = inGrads[k];
                        if (!Arrays.equals(gi.shape(), in.shape())) {
                            throw new IllegalStateException("autograd: backward of '" + node.op + "' produced a gradient of shape "
                                    + Shape.str(gi.shape()) + " for input " + k + " of shape " + Shape.str(in.shape()));
                        }
                        if (gi.dtype() != in.dtype()) gi = gi.to(in.dtype());
                        Tensor prev = grads.get(in);
                        Tensor sum = prev == null ? gi : prev.add(gi);
                        nodeScope.moveToParent(sum.storage);
                        grads.put(in, sum);
                        if (prev != null) replaced.add(prev);
                    }
                }
                releaseIfUnused(grad, grads, firstSerial);
                for (Tensor r : replaced) releaseIfUnused(r, grads, firstSerial);
            }
        }
    }

    /**
     * Releases a consumed gradient's storage when this pass made it, the innermost scope owns it, nothing keeps it and
     * no pending gradient shares it (a backward may return its incoming gradient, or a view of it, for an input).
     */
    private static void releaseIfUnused(Tensor grad, Map<Tensor, Tensor> pending, long firstSerial) {
        Storage s = grad.storage;
        if (s.serial < firstSerial || s.kept || !Memory.ownedByInnermost(s)) return;
        for (Tensor p : pending.values()) if (p.storage == s) return;
        Memory.releaseOwned(s);
    }

    /**
     * A leaf's first gradient adopts the gradient tensor itself when that is a whole, contiguous temporary made by this
     * backward pass in the innermost memory scope and used by no other leaf of this pass (it is kept past the scope instead of copied); anything
     * else (views, tensors the caller owns, a storage already adopted) is copied out of the scope as before.
     */
    private static void accumulateInto(Tensor leaf, Tensor grad, Set<Storage> adopted, long firstSerial) {
        if (leaf.grad == null) {
            Storage s = grad.storage;
            boolean whole = s.serial >= firstSerial && grad.isContiguous() && grad.storageOffset() == 0 && grad.numel() == s.numel()
                    && !s.kept;
            if (whole && Memory.ownedByInnermost(s) && adopted.add(s)) {
                s.kept = true;
                leaf.grad = grad.detach();
            } else {
                leaf.grad = Memory.unscoped(grad::clone);
            }
        } else {
            leaf.grad.add_(grad, 1.0);
        }
    }

    /** Tensors reachable from root through gradFn, inputs before outputs. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>(); // {tensor, nextInputIndex}
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Tensor[] inputs = t.gradFn == null ? new Tensor[0] : t.gradFn.inputs;
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor in = inputs[next];
                if (in != null && in.requiresGrad && visited.add(in)) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
