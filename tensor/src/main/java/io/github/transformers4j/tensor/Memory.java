package io.github.transformers4j.tensor;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Deterministic release of tensor memory. Every storage allocated while a scope is open on the current thread
 * belongs to the innermost scope and is released when it closes, unless its tensor called {@link Tensor#keep()}.
 * Storage allocated outside any scope is released when unreachable (or with {@link Tensor#release()}).
 * <pre>{@code
 * try (var step = Memory.scope()) {
 *     Tensor loss = F.crossEntropy(model.forward(x), y);
 *     loss.backward();          // parameter .grad tensors are allocated outside the scope
 *     optimizer.step();
 * }                             // every temporary of the step is released here
 * }</pre>
 */
public final class Memory {
    private static final ThreadLocal<ArrayDeque<Scope>> SCOPES = ThreadLocal.withInitial(ArrayDeque::new);

    private Memory() {}

    public static Scope scope() {
        Scope s = new Scope();
        SCOPES.get().push(s);
        return s;
    }

    /** Runs {@code body} with no scope open: what it allocates escapes every scope of this thread (e.g. optimizer state). */
    public static <T> T unscoped(java.util.function.Supplier<T> body) {
        ArrayDeque<Scope> saved = SCOPES.get();
        SCOPES.set(new ArrayDeque<>());
        try {
            return body.get();
        } finally {
            SCOPES.set(saved);
        }
    }

    /**
     * Runs {@code body} in a scope of its own and hands its result to the enclosing scope, so that what {@code body}
     * allocated besides its result is released when it returns: for inference, where an op's inputs are dead once it
     * has run (a transformer layer's activations, one layer at a time). With autograd on, {@code body} runs as it is:
     * the backward pass needs those intermediates.
     */
    public static Tensor transientScope(java.util.function.Supplier<Tensor> body) {
        if (Grad.isEnabled()) return body.get();
        try (Scope s = scope()) {
            Tensor out = body.get();
            s.moveToParent(out.storage);
            return out;
        }
    }

    static void register(Storage s) {
        Scope top = SCOPES.get().peek();
        if (top != null) top.owned.add(s);
    }

    /** Whether {@code s} belongs to the innermost open scope of this thread (it would be released when that closes). */
    static boolean ownedByInnermost(Storage s) {
        Scope top = SCOPES.get().peek();
        return top != null && top.owned.contains(s);
    }

    /** Releases a storage the innermost scope owns, now instead of when the scope closes. */
    static void releaseOwned(Storage s) {
        Scope top = SCOPES.get().peek();
        if (top != null && top.owned.remove(s)) s.release();
    }

    /** Number of storages owned by the innermost open scope (for tests and diagnostics). */
    public static int ownedByCurrentScope() {
        Scope top = SCOPES.get().peek();
        return top == null ? 0 : top.owned.size();
    }

    public static final class Scope implements AutoCloseable {
        private final Set<Storage> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        private boolean closed;

        private Scope() {}

        /** Hands a storage this scope owns to the enclosing scope (or to no scope): it outlives this one. */
        void moveToParent(Storage s) {
            if (!owned.remove(s)) return;
            ArrayDeque<Scope> stack = SCOPES.get();
            var it = stack.iterator();
            while (it.hasNext()) {
                if (it.next() == this) {
                    if (it.hasNext()) it.next().owned.add(s);
                    return;
                }
            }
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            ArrayDeque<Scope> stack = SCOPES.get();
            if (stack.peek() != this) {
                throw new IllegalStateException("Memory scopes must be closed in reverse order of opening (use try-with-resources)");
            }
            stack.pop();
            for (Storage s : owned) {
                if (!s.kept) s.release();
            }
            owned.clear();
        }
    }
}
