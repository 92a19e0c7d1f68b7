package io.github.transformers4j.train;

/** A progress bar per epoch on stderr with the running loss ({@link Progress}: only on a terminal). */
public final class ProgressBar implements Callback {
    private Progress bar;

    @Override
    public void onEpochBegin(TrainingLoop<?> loop, int epoch) {
        long steps = Math.ceilDiv(loop.trainBatches(), loop.config().gradientAccumulation());
        bar = Progress.start(true, String.format("epoch %d/%d", epoch, loop.config().epochs()), steps, System.err);
    }

    @Override
    public void onStepEnd(TrainingLoop<?> loop, long step, double loss) {
        if (bar != null) bar.step(loop.runningLoss());
        if (loop.atEpochEnd()) close(); // before validation, which has a bar of its own
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
        bar = null;
    }
}
