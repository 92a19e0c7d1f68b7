package io.github.transformers4j.train;

/** Hooks into {@link Trainer#fit}: everything optional about a run can be a callback. All methods default to no-ops. */
public interface Callback {
    /** Before the first epoch; {@code firstEpoch} is above 1 when resuming. */
    default void onFitStart(Trainer trainer, int firstEpoch) {}

    /** After each optimizer step; {@code step} counts steps from 1 over the whole run. */
    default void onStepEnd(Trainer trainer, int epoch, long step, double loss) {}

    /** After an epoch's validation, checkpoints and log rows. */
    default void onEpochEnd(Trainer trainer, EpochResult result) {}

    /** After the last epoch (or an early stop). */
    default void onFitEnd(Trainer trainer, FitResult result) {}
}
