package io.github.transformers4j.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * Hooks into {@link TrainingLoop#fit}, at Hugging Face's {@code TrainerCallback} events. Everything optional about a
 * run is one: metrics files and TensorBoard ({@link MetricsLogger}), checkpoints ({@link ModelCheckpoint}), early
 * stopping ({@link EarlyStopping}), the time limit ({@link TimeLimit}), the progress bar ({@link ProgressBar}) and the
 * plots ({@link PlotWriter}). Any of them can end training with {@link TrainingLoop#requestStop}. All methods default
 * to no-ops.
 *
 * <p>Order at a step: {@code onStepBegin}, the forward and backward passes (several with gradient accumulation),
 * {@code onPreOptimizerStep}, the update, then a step row ({@code onLog}) when one is due, an evaluation
 * ({@code onEvaluate}, then its row) when one is due, and {@code onStepEnd} last: a checkpoint written there holds
 * every row logged so far. At an epoch's end: validation, {@code onEvaluate}, the epoch row, {@code onEpochEnd}.
 */
public interface Callback {
    /** Before the first step; {@link TrainingLoop#resumedAt()} says whether and where a resumed run continues. */
    default void onTrainBegin(TrainingLoop<?> loop) {}

    default void onEpochBegin(TrainingLoop<?> loop, int epoch) {}

    /** Before optimizer step {@code step} (counting from 1 over the whole run). */
    default void onStepBegin(TrainingLoop<?> loop, long step) {}

    /** After the backward passes of step {@code step}, before the update: the gradients are there to inspect. */
    default void onPreOptimizerStep(TrainingLoop<?> loop, long step) {}

    /**
     * After step {@code step}, its row and its evaluation if either was due; {@code loss} is the step's mean loss, NaN
     * for a step captured into a CUDA graph (its loss stays on the device until the next row).
     */
    default void onStepEnd(TrainingLoop<?> loop, long step, double loss) {}

    /** A row for the metrics files; {@code extra} holds wall-clock and other figures (metrics.jsonl, TensorBoard). */
    default void onLog(TrainingLoop<?> loop, MetricsRow row, Map<String, Object> extra) {}

    /** After a validation pass (every N steps or at an epoch's end); {@code improved}: the monitored metric's best so far. */
    default void onEvaluate(TrainingLoop<?> loop, Evaluated e) {}

    /** After a checkpoint file was written. */
    default void onSave(TrainingLoop<?> loop, Path checkpoint) {}

    default void onEpochEnd(TrainingLoop<?> loop, EpochResult result) {}

    /** After the last epoch or a requested stop; not after an exception (then {@link #close()} still runs). */
    default void onTrainEnd(TrainingLoop<?> loop, FitResult result) {}

    /** Releases files and threads; the loop calls it when {@code fit} returns or fails. */
    default void close() {}

    /** State that a checkpoint carries and a resumed run restores (null: none). */
    default String state() {
        return null;
    }

    default void loadState(String state) {}

    /** The key of {@link #state()} in checkpoints. */
    default String name() {
        return getClass().getSimpleName();
    }

    /** A validation pass: the epoch and step it ran at, its figures, and whether the monitored metric improved. */
    record Evaluated(int epoch, long step, double loss, double accuracy, String monitor, double value, boolean improved,
                     boolean epochEnd) {}
}
