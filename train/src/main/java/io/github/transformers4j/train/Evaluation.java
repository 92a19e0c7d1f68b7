package io.github.transformers4j.train;

/** Mean loss, accuracy and confusion matrix of one pass over a data set without updates. */
public record Evaluation(double loss, double accuracy, ConfusionMatrix confusion, long samples, double seconds) {
    public double imagesPerSecond() {
        return seconds > 0 ? samples / seconds : 0;
    }
}
