package io.github.transformers4j.data.vision;

import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * A batch of labelled images: {@code images} (B, C, H, W) float32 and {@code labels} (B,) int64, on the CPU.
 *
 * <p>Memory: loader workers build batches on their own threads, outside the consumer's memory scope, so the
 * consumer's {@code Memory.scope()} does not own these tensors. {@link #close()} releases them at once; without
 * it they are released when unreachable.
 */
public record Batch(Tensor images, Tensor labels) implements AutoCloseable {
    /** The collate function for image classification: stacks samples of one shape into a batch. */
    public static Batch collate(List<LabeledImage> samples) {
        ImageArrays a = ImageArrays.stack(samples);
        return new Batch(Tensor.of(a.images(), a.batch(), a.channels(), a.height(), a.width()),
                Tensor.ofLongs(a.labels(), a.batch()));
    }

    /** Number of samples, B. */
    public int size() {
        return labels.size(0);
    }

    @Override
    public void close() {
        images.release();
        labels.release();
    }
}
