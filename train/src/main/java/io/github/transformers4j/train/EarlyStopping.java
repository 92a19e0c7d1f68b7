package io.github.transformers4j.train;

/**
 * Tracks the monitored metric: which epoch was best, and when {@code patience} epochs in a row brought no
 * improvement of more than {@code minDelta}. {@code patience <= 0} never stops (the best epoch is still tracked,
 * for the best checkpoint).
 */
public final class EarlyStopping {
    public enum Mode { MIN, MAX }

    private final String monitor;
    private final Mode mode;
    private final int patience;
    private final double minDelta;
    private double best;
    private int bestEpoch;
    private int badEpochs;

    public EarlyStopping(String monitor, Mode mode, int patience, double minDelta) {
        this.monitor = monitor;
        this.mode = mode;
        this.patience = patience;
        this.minDelta = minDelta;
        this.best = mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    /** The mode that suits a metric name: MAX for accuracies, MIN otherwise. */
    public static Mode defaultMode(String monitor) {
        return monitor.endsWith("acc") ? Mode.MAX : Mode.MIN;
    }

    /** Records an epoch's value; returns whether it is the best so far. NaN is never an improvement. */
    public boolean update(int epoch, double value) {
        boolean improved = mode == Mode.MIN ? value < best - minDelta : value > best + minDelta;
        if (improved) {
            best = value;
            bestEpoch = epoch;
            badEpochs = 0;
        } else {
            badEpochs++;
        }
        return improved;
    }

    public boolean shouldStop() {
        return patience > 0 && badEpochs >= patience;
    }

    public String monitor() { return monitor; }
    public Mode mode() { return mode; }
    public int patience() { return patience; }
    public double best() { return best; }
    public int bestEpoch() { return bestEpoch; }
    public int badEpochs() { return badEpochs; }

    /** State for checkpoints: {@code best,bestEpoch,badEpochs}. */
    String state() {
        return best + "," + bestEpoch + "," + badEpochs;
    }

    void restore(String state) {
        String[] p = state.split(",");
        best = Double.parseDouble(p[0]);
        bestEpoch = Integer.parseInt(p[1]);
        badEpochs = Integer.parseInt(p[2]);
    }
}
