package io.github.transformers4j.train;

import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A training checkpoint as ONE safetensors file, so it is written atomically (temporary file in the same folder,
 * fsync, rename: {@link SafeTensors#save}) and readable from Python ({@code safetensors.torch.load_file}):
 * <ul>
 *   <li>tensors {@code model.<state-dict key>}: the model's parameters and buffers (PyTorch names);</li>
 *   <li>tensors {@code optimizer.<key>}: the optimizer's tensor state (moments; with {@code --ema} the moving average of
 *       the weights, {@code optimizer.ema.<state-dict key>}: {@link #weights()});</li>
 *   <li>string metadata: {@code format} ({@value #FORMAT}), {@code epoch} (from 1), {@code epoch_done} (false for a
 *       checkpoint written mid-epoch, with {@code batches_done} and the epoch's running sums in {@code epoch_sums}),
 *       {@code global_step}, {@code rng_seed} / {@code rng_counter} (the Random4j state), {@code config} (the run's
 *       config.json), {@code optimizer} (JSON: non-tensor optimizer and schedule state), {@code monitor} and
 *       {@code best} (the monitored metric's best value, epoch and step), and {@code callback.NAME} (each callback's
 *       state, e.g. early stopping's count). {@link TrainingLoop#checkpoint()} writes them.</li>
 * </ul>
 */
public record Checkpoint(Map<String, Tensor> model, Map<String, Tensor> optimizer, Map<String, String> metadata) {
    public static final String FORMAT = "transformers4j-checkpoint-1";
    static final String MODEL = "model.", OPTIMIZER = "optimizer.";

    public Checkpoint {
        metadata = new TreeMap<>(metadata);
        metadata.put("format", FORMAT);
    }

    /**
     * The weights to evaluate and predict with: the model's, with the moving average of {@code --ema} ({@link ModelEma},
     * optimizer tensors {@code ema.<name>}) in place of the trained weights when the run kept one.
     */
    public Map<String, Tensor> weights() {
        if (optimizer.keySet().stream().noneMatch(k -> k.startsWith(ModelEma.PREFIX))) return model;
        Map<String, Tensor> w = new LinkedHashMap<>(model);
        optimizer.forEach((k, v) -> {
            if (k.startsWith(ModelEma.PREFIX)) w.put(k.substring(ModelEma.PREFIX.length()), v);
        });
        return w;
    }

    public int epoch() {
        return Integer.parseInt(require("epoch"));
    }

    public long globalStep() {
        return Long.parseLong(require("global_step"));
    }

    /** The run configuration (config.json) the checkpoint was trained with, as JSON text. */
    public String config() {
        return require("config");
    }

    public String meta(String key) {
        return metadata.get(key);
    }

    public String require(String key) {
        String v = metadata.get(key);
        if (v == null) throw new IllegalArgumentException("checkpoint: metadata key '" + key + "' is missing; keys: " + metadata.keySet());
        return v;
    }

    /** Writes the checkpoint atomically: a crash leaves the previous file (if any) intact. */
    public void save(Path path) {
        LinkedHashMap<String, Tensor> all = new LinkedHashMap<>();
        model.forEach((k, v) -> all.put(MODEL + k, v));
        optimizer.forEach((k, v) -> all.put(OPTIMIZER + k, v));
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            SafeTensors.save(path, all, metadata);
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint: cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    public static Checkpoint load(Path path) {
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("checkpoint: no such file " + path);
        try (var file = SafeTensors.read(path)) {
            Map<String, String> meta = file.metadata();
            if (!FORMAT.equals(meta.get("format")))
                throw new IllegalArgumentException("checkpoint: " + path + " is a safetensors file but not a transformers4j "
                        + "checkpoint (metadata format=" + meta.get("format") + ", expected " + FORMAT + ")");
            LinkedHashMap<String, Tensor> model = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
            for (var e : file.tensors().entrySet()) {
                Tensor t = SafeTensors.toTensor(file.source(), e.getKey(), e.getValue()).keep();
                if (e.getKey().startsWith(MODEL)) model.put(e.getKey().substring(MODEL.length()), t);
                else if (e.getKey().startsWith(OPTIMIZER)) opt.put(e.getKey().substring(OPTIMIZER.length()), t);
            }
            return new Checkpoint(model, opt, meta);
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            // the safetensors reader's messages already start with the file's name
            throw new UncheckedIOException("checkpoint: " + (m.startsWith(path.toString()) ? m : "cannot read " + path + ": " + m), e);
        }
    }
}
