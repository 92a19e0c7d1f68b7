package io.github.transformers4j.train;

/**
 * Mean loss, accuracy and confusion matrix of one pass over a data set without updates, and each sample's true
 * label, predicted class and the predicted class's softmax probability, in the loader's order.
 */
public record Evaluation(double loss, double accuracy, ConfusionMatrix confusion, long samples, double seconds, long[] labels,
                         long[] predicted, float[] probability) {
    public double imagesPerSecond() {
        return seconds > 0 ? samples / seconds : 0;
    }

    /** CSV: index,label,predicted,probability[,label_name,predicted_name] per sample (names when given). */
    public String predictionsCsv(java.util.List<String> classNames) {
        boolean names = classNames != null && !classNames.isEmpty();
        StringBuilder sb = new StringBuilder("index,label,predicted,probability").append(names ? ",label_name,predicted_name\n" : "\n");
        for (int i = 0; i < labels.length; i++) {
            sb.append(i).append(',').append(labels[i]).append(',').append(predicted[i]).append(',').append(probability[i]);
            if (names) sb.append(',').append(classNames.get((int) labels[i])).append(',').append(classNames.get((int) predicted[i]));
            sb.append('\n');
        }
        return sb.toString();
    }
}
