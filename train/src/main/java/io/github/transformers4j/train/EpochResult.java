package io.github.transformers4j.train;

/**
 * The figures of one epoch. {@code valLoss}/{@code valAcc} are NaN without a validation set. Seconds and
 * images per second are wall-clock (they go to metrics.jsonl, not metrics.csv).
 */
public record EpochResult(int epoch, long step, double lr, double trainLoss, double trainAcc, double valLoss,
                          double valAcc, double seconds, double imagesPerSecond, boolean best) {
    /** A metric by column name ({@code val_loss}, {@code train_acc}, ...). */
    public double get(String metric) {
        return switch (metric) {
            case "train_loss" -> trainLoss;
            case "train_acc" -> trainAcc;
            case "val_loss" -> valLoss;
            case "val_acc" -> valAcc;
            default -> throw new IllegalArgumentException("unknown metric '" + metric
                    + "'; use train_loss, train_acc, val_loss or val_acc");
        };
    }
}
