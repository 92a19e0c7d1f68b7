package io.github.transformers4j.train;

import java.util.Locale;

/**
 * A wall-clock budget for {@link TrainingLoop#fit}: no epoch starts that would, at the last epoch's pace, end past it.
 * The learning-rate schedule still spans all epochs, so a stopped run ends before its decay does.
 */
public final class TimeLimit implements Callback {
    private final double seconds;

    public TimeLimit(double seconds) {
        if (!(seconds > 0)) throw new IllegalArgumentException("time limit must be > 0 seconds, got " + seconds);
        this.seconds = seconds;
    }

    @Override
    public void onEpochEnd(TrainingLoop<?> loop, EpochResult r) {
        double elapsed = loop.elapsedSeconds();
        if (elapsed + r.seconds() > seconds)
            loop.requestStop(String.format(Locale.ROOT, "time limit: %.0f s used of %.0f s; the next epoch (about %.0f s) would end past it: "
                    + "stopping after epoch %d of %d", elapsed, seconds, r.seconds(), r.epoch(), loop.config().epochs()));
    }
}
