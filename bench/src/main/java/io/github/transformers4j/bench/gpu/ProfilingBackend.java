package io.github.transformers4j.bench.gpu;

import io.github.transformers4j.tensor.Capture;
import io.github.transformers4j.tensor.FusedOp;
import java.lang.reflect.Proxy;
import java.util.Optional;

import io.github.transformers4j.cuda.CudaBackend;
import io.github.transformers4j.cuda.CudaEvent;
import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.ReduceOp;
import io.github.transformers4j.tensor.Storage;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A diagnostic wrapper around the CUDA backend (installed with {@code Backends.instrument}): every op is bracketed by
 * two CUDA events and its host time is measured, so a step can be split into device time per kind of op, and the
 * gaps (the GPU idle, waiting for the host to queue work). Events do not synchronise, so the step runs as usual;
 * only {@link #collect()} waits.
 */
final class ProfilingBackend implements Backend {
    /** Per kind of op: calls, device milliseconds, host milliseconds. */
    static final class Stat {
        long calls, bytes;
        double deviceMs, hostMs;
    }

    private final CudaBackend inner;
    private final List<CudaEvent> pool = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<Long> hostNanos = new ArrayList<>();
    private final List<Long> bytes = new ArrayList<>();
    private int used;
    private int depth;
    final Map<String, Stat> stats = new LinkedHashMap<>();

    ProfilingBackend(CudaBackend inner) {
        this.inner = inner;
    }

    private CudaEvent event() {
        if (used == pool.size()) pool.add(inner.gpu().newEvent(true));
        return pool.get(used++);
    }

    /** Runs op between two events; touched: the tensors it reads or writes (their sizes give the table's GB/s). */
    private void timed(String name, Runnable op, Tensor... touched) {
        if (depth > 0) {
            op.run();
            return;
        }
        depth++;
        try {
            event().record(inner.stream());
            long t0 = System.nanoTime();
            op.run();
            hostNanos.add(System.nanoTime() - t0);
            event().record(inner.stream());
            names.add(name);
            long b = 0;
            for (Tensor t : touched) if (t != null) b += t.numel() * t.dtype().byteSize();
            bytes.add(b);
        } finally {
            depth--;
        }
    }

    /**
     * Any optional kernel the backend offers, each of its calls timed under the op's name (so a new fused kernel needs
     * no edit here). Graph capture is not offered while profiling: a replay hides the ops it would time.
     */
    @Override
    public <K> Optional<K> kernel(FusedOp<K> op, DType dtype) {
        if (op.equals(Capture.GRAPHS)) return Optional.empty();
        return inner.kernel(op, dtype).map(k -> op.type().cast(Proxy.newProxyInstance(op.type().getClassLoader(),
                new Class<?>[] {op.type()}, (proxy, method, args) -> {
                    // what a kernel launches is a void method; queries (supports, ...) are not timed
                    if (method.getDeclaringClass() == Object.class || method.getReturnType() != void.class) return method.invoke(k, args);
                    List<Tensor> touched = new ArrayList<>();
                    if (args != null) for (Object a : args) if (a instanceof Tensor t) touched.add(t);
                    timed(op.name() + "." + method.getName(), () -> {
                        try {
                            method.invoke(k, args);
                        } catch (ReflectiveOperationException e) {
                            throw new IllegalStateException(e.getCause() != null ? e.getCause() : e);
                        }
                    }, touched.toArray(Tensor[]::new));
                    return null;
                })));
    }

    /** Waits for the recorded ops and adds their times to {@link #stats}; returns the sum of their device time (ms). */
    double collect() {
        inner.synchronize();
        double total = 0;
        for (int i = 0; i < names.size(); i++) {
            float ms = pool.get(2 * i + 1).elapsedSince(pool.get(2 * i));
            Stat s = stats.computeIfAbsent(names.get(i), k -> new Stat());
            s.calls++;
            s.deviceMs += ms;
            s.hostMs += hostNanos.get(i) / 1e6;
            s.bytes += bytes.get(i);
            total += ms;
        }
        names.clear();
        hostNanos.clear();
        bytes.clear();
        used = 0;
        return total;
    }

    void close() {
        pool.forEach(CudaEvent::close);
        pool.clear();
    }

    /**
     * The op table for {@code steps} steps: per kind, calls and device/host ms per step, largest device time first, and
     * GB/s: the bytes of the tensors the op was handed (each read or written once) over its device time, a floor on
     * the traffic that says how far a memory-bound kernel is from the card's bandwidth (meaningless for products).
     */
    String table(int steps, double stepMs, int top) {
        List<Map.Entry<String, Stat>> rows = new ArrayList<>(stats.entrySet());
        rows.sort((a, b) -> Double.compare(b.getValue().deviceMs, a.getValue().deviceMs));
        double dev = 0, host = 0;
        long calls = 0;
        for (var e : rows) {
            dev += e.getValue().deviceMs;
            host += e.getValue().hostMs;
            calls += e.getValue().calls;
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "  per step: %d backend calls, device busy %.2f ms of %.2f ms (%.0f%%), host time in backend calls %.2f ms%n",
                calls / steps, dev / steps, stepMs, 100 * dev / steps / stepMs, host / steps));
        sb.append(String.format(Locale.ROOT, "  %-52s %7s %9s %6s %9s %7s%n", "op", "calls", "device ms", "share", "host ms", "GB/s"));
        for (int i = 0; i < Math.min(top, rows.size()); i++) {
            var e = rows.get(i);
            Stat s = e.getValue();
            sb.append(String.format(Locale.ROOT, "  %-52s %7d %9.3f %5.1f%% %9.3f %7.0f%n", e.getKey(), s.calls / steps, s.deviceMs / steps,
                    100 * s.deviceMs / dev, s.hostMs / steps, s.bytes / (s.deviceMs * 1e6)));
        }
        return sb.toString();
    }

    private static String dims(Tensor t) {
        return Arrays.toString(t.shape()).replace(" ", "");
    }

    /** "BF16,F32->F32": the operands' dtypes, the last one the output's. */
    private static String types(Tensor... ts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ts.length; i++) sb.append(i == 0 ? "" : i == ts.length - 1 ? "->" : ",").append(ts[i].dtype());
        return sb.toString();
    }

    private static boolean broadcast(Tensor t) {
        for (long st : t.stride()) if (st == 0) return true;
        return false;
    }

    // ------------------------------------------------------------------ delegation

    @Override public Device device() { return inner.device(); }
    @Override public Storage allocate(DType dtype, long numel) { return inner.allocate(dtype, numel); }

    @Override public void copyFromHost(MemorySegment src, Tensor dst) { timed("copyFromHost", () -> inner.copyFromHost(src, dst), dst); }
    @Override public void copyToHost(Tensor src, MemorySegment dst) { timed("copyToHost", () -> inner.copyToHost(src, dst), src); }

    @Override public void copy(Tensor src, Tensor dst) {
        boolean contiguous = src.isContiguous() && dst.isContiguous();
        String convert = src.dtype() == dst.dtype() ? "" : " " + src.dtype() + "->" + dst.dtype() + (contiguous ? " " + dims(dst) : "");
        timed("copy " + (contiguous ? "contiguous" : "strided " + dims(dst)) + convert, () -> inner.copy(src, dst), src, dst);
    }

    @Override public void fill(Tensor dst, double value) { timed("fill", () -> inner.fill(dst, value), dst); }

    @Override public void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out) {
        timed("unary " + op + " " + types(x, out), () -> inner.unary(op, p0, p1, x, out), x, out);
    }

    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        timed("binary " + op + " " + types(a, b, out) + (broadcast(a) || broadcast(b) ? " bcast " + dims(out) : ""), () -> inner.binary(op, a, b, out),
                broadcast(a) ? null : a, broadcast(b) ? null : b, out);
    }

    @Override public void where(Tensor cond, Tensor a, Tensor b, Tensor out) { timed("where", () -> inner.where(cond, a, b, out), cond, a, b, out); }

    @Override public void reduce(ReduceOp op, Tensor x, long outer, long n, long inner, Tensor values, Tensor indices) {
        timed("reduce " + op + (inner == 1 ? " rows" : " cols") + " [" + outer + "," + n + "," + inner + "]",
                () -> this.inner.reduce(op, x, outer, n, inner, values, indices), x, values, indices);
    }

    @Override public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        timed("matmul " + dims(a) + "@" + dims(b), () -> inner.matmul(a, b, out, accumulate), a, b, out);
    }

    @Override public void matmul(Tensor a, Tensor b, Tensor out, double alpha) {
        timed("matmul(scaled) " + dims(a) + "@" + dims(b), () -> inner.matmul(a, b, out, alpha), a, b, out);
    }

    @Override public void softmax(Tensor x, Tensor out, boolean log) { timed((log ? "logSoftmax " : "softmax ") + types(x, out), () -> inner.softmax(x, out, log), x, out); }

    @Override public void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log) {
        timed((log ? "logSoftmaxBackward " : "softmaxBackward ") + types(y, gy, gx), () -> inner.softmaxBackward(y, gy, gx, log), y, gy, gx);
    }

    @Override public void layerNorm(Tensor x, Tensor w, Tensor b, double eps, Tensor y, Tensor mean, Tensor rstd) {
        timed("layerNorm " + types(x, y), () -> inner.layerNorm(x, w, b, eps, y, mean, rstd), x, y);
    }

    @Override public void layerNormBackward(Tensor gy, Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gx, Tensor gw, Tensor gb) {
        timed("layerNormBackward " + types(gy, x, gx), () -> inner.layerNormBackward(gy, x, w, mean, rstd, gx, gw, gb), gy, x, gx);
    }

    @Override public void indexSelect(Tensor src, long outer, long n, long inner, Tensor index, Tensor out) {
        timed("indexSelect", () -> this.inner.indexSelect(src, outer, n, inner, index, out), out, out);
    }

    @Override public void indexAdd(Tensor dst, long outer, long n, long inner, Tensor index, Tensor src) {
        timed("indexAdd", () -> this.inner.indexAdd(dst, outer, n, inner, index, src), src, src);
    }

    @Override public void gather(Tensor src, int dim, Tensor index, Tensor out) { timed("gather", () -> inner.gather(src, dim, index, out)); }
    @Override public void scatterAdd(Tensor dst, int dim, Tensor index, Tensor src) { timed("scatterAdd", () -> inner.scatterAdd(dst, dim, index, src)); }

    @Override public void random(Tensor out, Distribution kind, long seed, long offset, double a, double b) {
        timed("random " + kind, () -> inner.random(out, kind, seed, offset, a, b), out);
    }

    @Override public void im2col(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor cols) {
        timed("im2col", () -> inner.im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, cols), cols, cols);
    }

    @Override public void col2im(Tensor cols, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, Tensor x) {
        timed("col2im", () -> inner.col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, x), cols, cols);
    }

    @Override public void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step, boolean decoupled) {
        timed("adamStep", () -> inner.adamStep(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled), p, g, m, v, p, m, v);
    }

    @Override public void synchronize() { inner.synchronize(); }

    @Override public boolean hasFusedLinear(DType dtype) { return inner.hasFusedLinear(dtype); }

    @Override public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        timed("linear " + dims(x) + "x" + dims(w) + (bias == null ? "" : "+b"), () -> inner.linear(x, w, bias, out), x, w, out);
    }

    @Override public void linearWeightGrad(Tensor g, Tensor x, Tensor gw, Tensor gb) {
        timed("linearWeightGrad " + dims(g) + "^T@" + dims(x) + (gb == null ? "" : "+gb"), () -> inner.linearWeightGrad(g, x, gw, gb), g, x, gw);
    }

    @Override public boolean prefersFusedAttention() { return inner.prefersFusedAttention(); }

    @Override public boolean hasFusedDropout(DType dtype) { return inner.hasFusedDropout(dtype); }

    @Override public void dropout(Tensor x, Tensor out, double p, long seed, long offset) {
        timed("dropout " + types(x, out), () -> inner.dropout(x, out, p, seed, offset), x, out);
    }

    @Override public void maskedSoftmax(Tensor x, Tensor mask, Tensor out) { timed("maskedSoftmax " + types(x, out), () -> inner.maskedSoftmax(x, mask, out), x, mask, out); }

    @Override public String toString() { return "Profiling[" + inner + "]"; }
}
