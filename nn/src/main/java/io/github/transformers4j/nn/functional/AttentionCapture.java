package io.github.transformers4j.nn.functional;

import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Records what every attention call computes while it is open on this thread: the one mechanism through which any model
 * here (the zoo's ViTs and MultiheadAttention layers, the summarizer, BERT, GPT-2) shows its attention, without
 * per-model code. Every module's attention goes through {@link F#scaledDotProductAttention}, which, while a capture is
 * open, takes its unfused path and hands its queries, keys and weights here. The values are copied to the heap at once
 * (they survive the caller's memory scopes).
 *
 * <pre>
 * try (AttentionCapture c = AttentionCapture.open()) {
 *     model.forward(x);
 *     c.calls().get(layer).weights()   // [b][h][i * lk + j]
 * }
 * </pre>
 */
public final class AttentionCapture implements AutoCloseable {
    /**
     * One attention call: B batches, H heads, Lq queries, Lk keys, head dim E. Arrays are row-major:
     * {@code weights[((b * H + h) * Lq + i) * Lk + j]}, {@code q[((b * H + h) * Lq + i) * E + e]}, k likewise with Lk.
     * The weights are those before attention dropout (the model's distribution).
     */
    public record Call(int batch, int heads, int queries, int keys, int dim, float[] q, float[] k, float[] weights) {
        /** One head's weights (Lq * Lk) of batch 0. */
        public float[] head(int h) {
            int n = queries * keys;
            return java.util.Arrays.copyOfRange(weights, h * n, (h + 1) * n);
        }
    }

    private static final ThreadLocal<AttentionCapture> CURRENT = new ThreadLocal<>();
    private final AttentionCapture previous;
    private final List<Call> calls = new ArrayList<>();

    private AttentionCapture(AttentionCapture previous) {
        this.previous = previous;
    }

    /** Starts recording on this thread (nested captures: the innermost records). */
    public static AttentionCapture open() {
        AttentionCapture c = new AttentionCapture(CURRENT.get());
        CURRENT.set(c);
        return c;
    }

    /** Whether attention calls on this thread are being recorded (fused kernels step aside then). */
    public static boolean active() {
        return CURRENT.get() != null;
    }

    /** The calls so far, in the order the model made them (layer by layer). */
    public List<Call> calls() {
        return List.copyOf(calls);
    }

    /** q (B, H, Lq, E), k (B, H, Lk, E), weights (B, H, Lq, Lk). */
    static void record(Tensor q, Tensor k, Tensor weights) {
        AttentionCapture c = CURRENT.get();
        if (c == null) return;
        c.calls.add(new Call(q.size(0), q.size(1), q.size(2), k.size(2), q.size(3), q.contiguous().toFloatArray(), k.contiguous().toFloatArray(),
                weights.contiguous().toFloatArray()));
    }

    @Override
    public void close() {
        CURRENT.set(previous);
    }
}
