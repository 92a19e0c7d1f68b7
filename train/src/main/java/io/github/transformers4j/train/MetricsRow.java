package io.github.transformers4j.train;

/**
 * One row of {@code metrics.csv}. {@code kind} is {@code step} (training loss averaged over the steps since the
 * previous step row), {@code eval} (a validation pass every N steps), {@code epoch} (end-of-epoch summary) or
 * {@code test} (the final test pass). Epochs count from
 * 1; {@code step} is the number of optimizer steps done so far. Missing values are NaN (written as empty cells).
 * Only values that are the same on every run with the same seed go here; wall-clock figures go to metrics.jsonl.
 */
public record MetricsRow(String kind, int epoch, long step, double lr, double trainLoss, double trainAcc,
                         double valLoss, double valAcc, double testLoss, double testAcc) {
    public static final String STEP = "step", EVAL = "eval", EPOCH = "epoch", TEST = "test";

    /** Column names, in order, of metrics.csv (and keys of metrics.jsonl). */
    public static final String[] COLUMNS = {"kind", "epoch", "step", "lr", "train_loss", "train_acc", "val_loss",
            "val_acc", "test_loss", "test_acc"};

    public static MetricsRow step(int epoch, long step, double lr, double trainLoss) {
        return new MetricsRow(STEP, epoch, step, lr, trainLoss, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    public static MetricsRow eval(int epoch, long step, double lr, double valLoss, double valAcc) {
        return new MetricsRow(EVAL, epoch, step, lr, Double.NaN, Double.NaN, valLoss, valAcc, Double.NaN, Double.NaN);
    }

    public static MetricsRow epoch(int epoch, long step, double lr, double trainLoss, double trainAcc, double valLoss, double valAcc) {
        return new MetricsRow(EPOCH, epoch, step, lr, trainLoss, trainAcc, valLoss, valAcc, Double.NaN, Double.NaN);
    }

    public static MetricsRow test(int epoch, long step, double testLoss, double testAcc) {
        return new MetricsRow(TEST, epoch, step, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, testLoss, testAcc);
    }

    /** The numeric cells in {@link #COLUMNS} order after kind, epoch and step. */
    double[] values() {
        return new double[] {lr, trainLoss, trainAcc, valLoss, valAcc, testLoss, testAcc};
    }

    /** A metric by its column name (e.g. {@code val_loss}); NaN when absent. */
    public double get(String column) {
        return switch (column) {
            case "lr" -> lr;
            case "train_loss" -> trainLoss;
            case "train_acc" -> trainAcc;
            case "val_loss" -> valLoss;
            case "val_acc" -> valAcc;
            case "test_loss" -> testLoss;
            case "test_acc" -> testAcc;
            case "epoch" -> epoch;
            case "step" -> step;
            default -> throw new IllegalArgumentException("unknown metric '" + column + "'; known: lr, train_loss, "
                    + "train_acc, val_loss, val_acc, test_loss, test_acc");
        };
    }
}
