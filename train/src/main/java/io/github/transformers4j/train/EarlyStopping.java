package io.github.transformers4j.train;

import java.util.Locale;

/**
 * Stops training when {@code patience} evaluations in a row did not improve the loop's monitored metric (a NaN never
 * improves). Evaluations come at every epoch's end, and every N steps with {@link TrainingLoop.Config#evalSteps}.
 */
public final class EarlyStopping implements Callback {
    public enum Mode { MIN, MAX }

    private final int patience;
    private int bad;

    public EarlyStopping(int patience) {
        if (patience < 1) throw new IllegalArgumentException("early stopping: patience must be >= 1 evaluation, got " + patience);
        this.patience = patience;
    }

    /** The mode that suits a metric name: MAX for accuracies, MIN otherwise. */
    public static Mode defaultMode(String monitor) {
        return monitor.endsWith("acc") ? Mode.MAX : Mode.MIN;
    }

    @Override
    public void onEvaluate(TrainingLoop<?> loop, Evaluated e) {
        bad = e.improved() ? 0 : bad + 1;
        if (bad >= patience)
            loop.requestStop(String.format(Locale.ROOT, "early stop: %s has not improved for %d evaluations (best %.4f at epoch %d)",
                    e.monitor(), bad, loop.best(), loop.bestEpoch()));
    }

    /** Evaluations in a row without improvement. */
    public int badEvaluations() {
        return bad;
    }

    @Override
    public String state() {
        return String.valueOf(bad);
    }

    @Override
    public void loadState(String state) {
        bad = Integer.parseInt(state);
    }
}
