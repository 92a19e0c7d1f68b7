package io.github.transformers4j.train;

import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Child process of {@link CheckpointTest}: writes the checkpoint {@code args[0]} over and over, iteration {@code i}
 * filling every tensor with {@code i}, and prints "begin i" before and "done i" after each write. The test kills it
 * with SIGKILL in the middle of a write.
 */
public final class CheckpointWriterMain {
    public static void main(String[] args) {
        Path path = Path.of(args[0]);
        for (int i = 1; ; i++) {
            Map<String, Tensor> model = new LinkedHashMap<>();
            for (int k = 0; k < 4; k++) model.put("w" + k, Tensor.full(i, 2_000_000)); // 4 x 8 MB
            System.out.println("begin " + i);
            System.out.flush();
            new Checkpoint(model, Map.of("m", Tensor.full(i, 1000)), Map.of("epoch", String.valueOf(i), "global_step", "0")).save(path);
            System.out.println("done " + i);
            System.out.flush();
            model.values().forEach(Tensor::release);
        }
    }
}
