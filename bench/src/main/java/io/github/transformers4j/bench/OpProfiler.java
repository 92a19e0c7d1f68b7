package io.github.transformers4j.bench;

import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.FusedOp;
import io.github.transformers4j.tensor.Tensor;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where a CPU step goes: wraps a device's backend ({@link Backends#instrument}) so that every op it runs is timed on
 * the calling thread, by kind ({@code matmul}, {@code unary GELU}, {@code binary ADD}, a fused kernel's method, ...),
 * with the floating-point operations of the products. On the CPU an op's wall time is its cost (it returns when its
 * threads are done); what the table does not hold is the rest of the step: autograd, allocation, Java between ops.
 * Ops an op runs itself through the backend count once, in the outer op. {@link #close()} puts the backend back.
 */
public final class OpProfiler implements AutoCloseable {
    /** One kind of op: calls, nanoseconds, floating-point operations (products only), bytes of the tensors handed to it. */
    public static final class Stat {
        public long calls, nanos, bytes;
        public double flops;
    }

    private final Device device;
    private final Backend original;
    private final Map<String, Stat> stats = new LinkedHashMap<>();
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    private OpProfiler(Device device) {
        this.device = device;
        this.original = Backends.instrument(device, this::wrap);
    }

    /** Starts timing every op of {@code device}'s backend. */
    public static OpProfiler install(Device device) {
        return new OpProfiler(device);
    }

    @Override
    public void close() {
        Backends.restore(device, original);
    }

    /** The figures so far, by kind in first-seen order (a copy). */
    public synchronized Map<String, Stat> stats() {
        return new LinkedHashMap<>(stats);
    }

    private Backend wrap(Backend inner) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("kernel") && args != null && args.length == 2 && args[0] instanceof FusedOp<?> op)
                        return ((Optional<?>) call(inner, method, args)).map(k -> wrapKernel(op, k));
                    if (method.getDeclaringClass() == Object.class || method.getReturnType() != void.class) return call(inner, method, args);
                    return timed(name(method, args), flops(method, args), bytes(args), () -> call(inner, method, args));
                });
    }

    @SuppressWarnings("unchecked")
    private <K> Object wrapKernel(FusedOp<?> op, Object kernel) {
        Class<K> type = (Class<K>) op.type();
        return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class || method.getReturnType() != void.class) return call(kernel, method, args);
            return timed(op.name() + "." + method.getName(), 0, bytes(args), () -> call(kernel, method, args));
        });
    }

    /** A call through to the wrapped backend or kernel. */
    private interface Call {
        Object run() throws Throwable;
    }

    private Object timed(String name, double flops, long bytes, Call op) throws Throwable {
        int[] d = depth.get();
        if (d[0] > 0) return op.run();
        d[0]++;
        long t0 = System.nanoTime();
        try {
            return op.run();
        } finally {
            long dt = System.nanoTime() - t0;
            d[0]--;
            synchronized (this) {
                Stat s = stats.computeIfAbsent(name, k -> new Stat());
                s.calls++;
                s.nanos += dt;
                s.flops += flops;
                s.bytes += bytes;
            }
        }
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /**
     * The method's name, with the op of {@code unary}, {@code binary} and {@code reduce} (their first argument); with
     * {@code -Dt4j.profile.shapes=true} a product's operand shapes and strides too (one row per layout).
     */
    static String name(Method method, Object[] args) {
        String m = method.getName();
        if (SHAPES && (m.equals("matmul") || m.equals("linear") || m.equals("linearWeightGrad")) && args != null && args.length > 1
                && args[0] instanceof Tensor a && args[1] instanceof Tensor b)
            return m + " " + layout(a) + " @ " + layout(b);
        if ((m.equals("unary") || m.equals("binary") || m.equals("reduce")) && args != null && args.length > 0 && args[0] instanceof Enum<?> e)
            return m + " " + e.name();
        return m;
    }

    private static final boolean SHAPES = Boolean.getBoolean("t4j.profile.shapes");

    private static String layout(Tensor t) {
        return Arrays.toString(t.shape()) + "/" + Arrays.toString(t.stride());
    }

    /**
     * The bytes of the tensors an op is handed (inputs and outputs at their logical sizes, each as if read or written
     * once; a broadcast view counts its full size): over the op's time, beside the machine's memory bandwidth, it says
     * whether an op is bound by memory or by arithmetic.
     */
    static long bytes(Object[] args) {
        long b = 0;
        if (args != null) for (Object o : args) if (o instanceof Tensor t) b += t.numel() * t.dtype().byteSize();
        return b;
    }

    /** Multiply-adds times 2 of the products: out (.., M, N) over K = the first operand's last size. */
    static double flops(Method method, Object[] args) {
        if (args == null) return 0;
        return switch (method.getName()) {
            case "matmul", "linear" -> args[0] instanceof Tensor a && args[method.getName().equals("matmul") ? 2 : 3] instanceof Tensor out
                    ? 2.0 * out.numel() * a.size(a.dim() - 1) : 0;
            case "linearWeightGrad" -> args[0] instanceof Tensor g && args[2] instanceof Tensor gw
                    ? 2.0 * gw.numel() * (g.numel() / g.size(g.dim() - 1)) : 0;
            default -> 0;
        };
    }

    /** The table: kinds by time, per step, with each one's share of {@code stepMs} and the products' GFLOP/s. */
    public void print(PrintStream out, int steps, double stepMs) {
        List<Map.Entry<String, Stat>> rows = new ArrayList<>(stats().entrySet());
        rows.sort(Comparator.comparingLong((Map.Entry<String, Stat> e) -> e.getValue().nanos).reversed());
        double opsMs = 0;
        out.printf(Locale.ROOT, "| op | calls/step | ms/step | share of the step | GFLOP/s | GB/s |%n|---|---:|---:|---:|---:|---:|%n");
        for (var e : rows) {
            Stat s = e.getValue();
            double ms = s.nanos / 1e6 / steps;
            opsMs += ms;
            out.printf(Locale.ROOT, "| %s | %.0f | %.2f | %.1f%% | %s | %s |%n", e.getKey(), (double) s.calls / steps, ms, 100 * ms / stepMs,
                    s.flops > 0 ? String.format(Locale.ROOT, "%.1f", s.flops / (s.nanos / 1e9) / 1e9) : "",
                    s.nanos > 0 && s.bytes > 0 ? String.format(Locale.ROOT, "%.1f", s.bytes / (double) s.nanos) : "");
        }
        out.printf(Locale.ROOT, "| (outside the ops: autograd, allocation, Java) | | %.2f | %.1f%% | | |%n", stepMs - opsMs,
                100 * (stepMs - opsMs) / stepMs);
    }
}
