package io.github.transformers4j.train;

import io.github.transformers4j.tensor.Tensor;
import java.util.Map;

/**
 * What the trainer needs from an optimizer and its learning-rate schedule, so the loop does not depend on which
 * optimizer runs. {@link Optimizers} builds one from an optimizer of the {@code optim} package.
 */
public interface Optimization {
    /** The scheduled learning rate of optimizer step {@code step} (counting from 0). */
    double lr(long step);

    /**
     * Update number {@code step} (counting from 0) from the parameters' current gradients, at the rate
     * {@link #lr(long) lr(step)}, clipping the gradients first if configured.
     */
    void step(long step);

    /**
     * The global gradient norm of the last {@link #step} before clipping, as a one-element tensor on the parameters'
     * device (valid until the caller's memory scope ends), or null when the step did not compute it (no clipping).
     */
    default Tensor lastGradNorm() {
        return null;
    }

    /** Clears the parameters' gradients. */
    void zeroGrad();

    /** Tensor state to checkpoint (e.g. Adam moments), by name. */
    Map<String, Tensor> stateTensors();

    /** Non-tensor state to checkpoint (step counts, ...), as JSON text. */
    String stateJson();

    /** Restores what {@link #stateTensors()} and {@link #stateJson()} returned. */
    void loadState(Map<String, Tensor> tensors, String json);

    /**
     * Puts the weights to evaluate with in place until the result is closed: the trained weights themselves (nothing
     * to do) unless the optimization keeps others, as {@link ModelEma}'s moving average.
     */
    default Restore evaluationWeights() {
        return () -> {};
    }

    /** Puts the trained weights back. */
    interface Restore extends AutoCloseable {
        @Override
        void close();
    }
}
