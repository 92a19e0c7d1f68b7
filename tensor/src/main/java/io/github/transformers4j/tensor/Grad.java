package io.github.transformers4j.tensor;

/** Gradient recording switch, per thread. {@code try (var g = Grad.disabled()) { ... }} for evaluation. */
public final class Grad {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private Grad() {}

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    public static Mode disabled() {
        return set(false);
    }

    public static Mode enabled() {
        return set(true);
    }

    private static Mode set(boolean on) {
        boolean[] flag = ENABLED.get();
        boolean before = flag[0];
        flag[0] = on;
        return () -> flag[0] = before;
    }

    /** Restores the previous mode on close. */
    public interface Mode extends AutoCloseable {
        @Override
        void close();
    }
}
