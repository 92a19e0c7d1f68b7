package io.github.transformers4j.bench.gpu;

import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.GraphedStep;

/**
 * One benchmark workload on the Java side: a step to time and what a step is worth.
 *
 * @param key         short id shared with the PyTorch script (vit128, vit1024, bert, s2s, attn65, ...)
 * @param title       what it is, for the table
 * @param batch       batch size
 * @param unit        images/s, tokens/s or TFLOP/s
 * @param perStep     units of work in one step (images, tokens, or TFLOP)
 * @param params      trainable parameters (0 for micro-benchmarks)
 * @param step        one training step (or forward + backward), queued on the GPU; must not wait for the GPU
 * @param cleanup     releases what the workload holds (model, optimizer state, inputs)
 */
public record Workload(String key, String title, int batch, String unit, double perStep, long params, Runnable step,
                       Runnable cleanup) {
    /** The same workload with its step captured after {@code eager} eager steps ({@link GraphedStep}). */
    public Workload graphed(Device device, int eager) {
        GraphedStep g = new GraphedStep(device, step, eager, key + "'s training step");
        return new Workload(key, title, batch, unit, perStep, params, g, () -> {
            g.close();
            cleanup.run();
        });
    }

    /** Whether the step replays a captured graph (false before its capture, or where capture failed). */
    public boolean captured() {
        return step instanceof GraphedStep g && g.captured();
    }
}
