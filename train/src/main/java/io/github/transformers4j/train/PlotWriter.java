package io.github.transformers4j.train;

/** Redraws the run's loss and accuracy plots ({@link Plots#writeRunPlots}) after every epoch. */
public final class PlotWriter implements Callback {
    @Override
    public void onEpochEnd(TrainingLoop<?> loop, EpochResult r) {
        try {
            Plots.writeRunPlots(loop.runDir());
        } catch (RuntimeException | Error e) {
            loop.say("warning: plots not written: " + e);
        }
    }
}
