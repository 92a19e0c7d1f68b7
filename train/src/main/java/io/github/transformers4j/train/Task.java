package io.github.transformers4j.train;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Tensor;
import java.util.Map;

/**
 * What {@link TrainingLoop} needs to know about one kind of model and data (image classification, seq2seq, masked
 * auto-encoding, ...): which tensors of a batch the model reads, its forward pass and loss, and its evaluation. The
 * loop owns everything else: the optimizer step, gradient accumulation, mixed precision, CUDA graphs, evaluation and
 * logging schedules, checkpoints and resume.
 *
 * @param <B> the batch type of the task's data loader
 */
public interface Task<B extends AutoCloseable> {
    /** The module being trained (its mode, parameters and state dict are the loop's to use). */
    Module module();

    /** The batch's host tensors that {@link #forward} reads, in a fixed order: the loop copies them to the device. */
    Tensor[] inputs(B batch);

    /**
     * {@code {count, items}} of a batch, from host data (no device read): the targets its mean loss is over (images,
     * non-padding tokens) and the units its throughput counts (images, tokens).
     */
    long[] counts(B batch);

    /**
     * Forward pass and loss over device tensors shaped as {@link #inputs} returned. The loop calls it with gradients
     * on and under the run's autocast; it must not read anything back to the host (a GPU may capture it into a graph
     * when {@link #capturable()}).
     */
    Output forward(Tensor[] inputs);

    /**
     * @param loss    the mean loss over the batch's targets, a scalar
     * @param correct how many targets were predicted right, a scalar (no gradient); null when the task has no accuracy
     * @param count   the targets as a device scalar when it varies between batches of one shape (non-padding tokens);
     *                null when {@code counts(batch)[0]} is fixed by the input shapes (images)
     */
    record Output(Tensor loss, Tensor correct, Tensor count) {}

    /** Whether {@link #forward} may be captured into a CUDA graph: no host reads and no host-side randomness. */
    default boolean capturable() {
        return true;
    }

    /**
     * Loss and accuracy over {@code loader} in eval mode without gradients (the module's mode is restored);
     * {@code progress}: a bar named "validate" on a terminal.
     */
    Validation validate(DataLoader<?, B> loader, Device device, boolean progress);

    /** A validation pass: weighted loss and accuracy (NaN without one), and extra figures for metrics.jsonl. */
    record Validation(double loss, double accuracy, Map<String, Object> extra) {}

    /** What every checkpoint carries besides the loop's own state: the run's configuration, a tokenizer, ... */
    Map<String, String> checkpointMeta();

    /** How summary lines and metrics.jsonl name the accuracy and the throughput. */
    default Names names() {
        return Names.IMAGES;
    }

    /**
     * @param accuracy the summary line's name ("acc", "tok-acc"), null for a task without one (its outputs' correct is
     *     null: no training accuracy is reported); unit: "img/s"; key: the jsonl key of the throughput
     */
    record Names(String accuracy, String unit, String key) {
        public static final Names IMAGES = new Names("acc", "img/s", "images_per_s"), TOKENS = new Names("tok-acc", "tok/s", "tokens_per_s"),
                IMAGES_NO_ACCURACY = new Names(null, "img/s", "images_per_s");
    }
}
