package io.github.transformers4j.models.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A Hugging Face model folder as {@code save_pretrained} writes it: {@code config.json} and the weights in
 * {@code model.safetensors} or in shards listed by {@code model.safetensors.index.json}. Reads it without network, and
 * writes one that {@code transformers} loads. Every error names the file and, where there is one, the key.
 *
 * <p>Keys map to our modules one for one (the models keep Hugging Face's names); what differs between checkpoints of one
 * architecture is handled here: the base-model prefix ({@code bert.}, {@code transformer.}, {@code vit.}) present or
 * not, old LayerNorm names ({@code gamma}, {@code beta}), buffers that are not weights ({@code attn.bias},
 * {@code position_ids}) and tied copies of the embedding table ({@code lm_head.weight}).
 */
public final class HfCheckpoint {
    public static final String CONFIG = "config.json", WEIGHTS = "model.safetensors", INDEX = "model.safetensors.index.json";
    static final ObjectMapper JSON = new ObjectMapper();

    public final Path dir;
    public final JsonNode config;

    private HfCheckpoint(Path dir, JsonNode config) {
        this.dir = dir;
        this.config = config;
    }

    /** Opens a model folder: it must hold a readable {@code config.json}. */
    public static HfCheckpoint open(Path dir) {
        if (!Files.isDirectory(dir))
            throw new IllegalArgumentException(dir + ": not a directory (expected a Hugging Face model folder with " + CONFIG + " and " + WEIGHTS + ")");
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file))
            throw new IllegalArgumentException(file + ": missing (a Hugging Face model folder has " + CONFIG + " beside " + WEIGHTS + ")");
        return new HfCheckpoint(dir, readJson(file));
    }

    static JsonNode readJson(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || !n.isObject()) throw new IllegalArgumentException(file + ": expected a JSON object");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** {@code model_type} ("bert", "gpt2", "vit", ...). */
    public String modelType() {
        return string("model_type", null);
    }

    /** Fails unless {@code model_type} is one of the given. */
    public void requireType(String... types) {
        String t = modelType();
        if (t == null || !Arrays.asList(types).contains(t))
            throw new IllegalArgumentException(dir.resolve(CONFIG) + ": model_type is " + (t == null ? "missing" : "\"" + t + "\"")
                    + ", expected " + String.join(" or ", Arrays.stream(types).map(x -> "\"" + x + "\"").toList()));
    }

    // ---------------------------------------------------------------------------------------------- config fields

    public int integer(String key, Integer dflt) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            if (dflt == null) throw new IllegalArgumentException(dir.resolve(CONFIG) + ": \"" + key + "\" is missing");
            return dflt;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new IllegalArgumentException(dir.resolve(CONFIG) + ": \"" + key + "\" must be an integer, got " + n);
        return n.intValue();
    }

    public double number(String key, double dflt) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber()) throw new IllegalArgumentException(dir.resolve(CONFIG) + ": \"" + key + "\" must be a number, got " + n);
        return n.doubleValue();
    }

    public boolean bool(String key, boolean dflt) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw new IllegalArgumentException(dir.resolve(CONFIG) + ": \"" + key + "\" must be true or false, got " + n);
        return n.booleanValue();
    }

    public String string(String key, String dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    /** Fails if a config field asks for something we do not implement (the value it must have, or be absent). */
    public void require(String key, Object allowed) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) return;
        Object v = n.isBoolean() ? n.booleanValue() : n.isNumber() ? (Object) n.numberValue() : n.asText();
        boolean ok = allowed instanceof Number a && v instanceof Number b ? a.doubleValue() == b.doubleValue() : allowed.equals(v);
        if (!ok) throw new IllegalArgumentException(dir.resolve(CONFIG) + ": \"" + key + "\" = " + n + " is not supported (only " + allowed + ")");
    }

    /** {@code id2label} as a list by id, or {@code num_labels} names "LABEL_i", or null if neither is there. */
    public List<String> labels() {
        JsonNode m = config.get("id2label");
        if (m != null && m.isObject() && !m.isEmpty()) {
            String[] out = new String[m.size()];
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                var e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException x) {
                    id = -1;
                }
                if (id < 0 || id >= out.length)
                    throw new IllegalArgumentException(dir.resolve(CONFIG) + ": id2label key \"" + e.getKey() + "\" is not an id in 0.." + (out.length - 1));
                out[id] = e.getValue().asText();
            }
            return List.of(out);
        }
        if (config.has("num_labels")) {
            int n = integer("num_labels", null);
            return java.util.stream.IntStream.range(0, n).mapToObj(i -> "LABEL_" + i).toList();
        }
        return null;
    }

    /** The activation named by a config field: HF's "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh form), "relu". */
    public io.github.transformers4j.nn.Activation activation(String key, String dflt) {
        String a = string(key, dflt);
        return switch (a) {
            case "gelu" -> io.github.transformers4j.nn.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> io.github.transformers4j.nn.Activation.GELU_TANH;
            case "relu" -> io.github.transformers4j.nn.Activation.RELU;
            default -> throw new IllegalArgumentException(dir.resolve(CONFIG) + ": \"" + key + "\" = \"" + a
                    + "\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu)");
        };
    }

    // ---------------------------------------------------------------------------------------------- weights

    /** The weights by key (as stored, any float dtype), each with the file it came from (for error messages). */
    public record Weights(LinkedHashMap<String, Tensor> tensors, Map<String, Path> source) {
        /** Whether the checkpoint holds this key, with or without the given prefix. */
        public boolean has(String key, String prefix) {
            return tensors.containsKey(key) || tensors.containsKey(prefix + key);
        }

        String where(String key) {
            Path p = source.get(key);
            return p == null ? "" : p.getFileName().toString();
        }
    }

    /** Reads {@code model.safetensors}, or every shard named by {@code model.safetensors.index.json}. */
    public Weights weights() {
        Path single = dir.resolve(WEIGHTS), index = dir.resolve(INDEX);
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, Path> source = new LinkedHashMap<>();
        if (Files.isRegularFile(single)) {
            readInto(single, tensors, source);
        } else if (Files.isRegularFile(index)) {
            JsonNode map = readJson(index).get("weight_map");
            if (map == null || !map.isObject() || map.isEmpty()) throw new IllegalArgumentException(index + ": no \"weight_map\" object");
            Set<String> shards = new LinkedHashSet<>();
            map.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
            for (String shard : shards) {
                Path p = dir.resolve(shard).normalize();
                if (!p.startsWith(dir.normalize()) || !Files.isRegularFile(p))
                    throw new IllegalArgumentException(index + ": lists shard \"" + shard + "\", which is not in " + dir);
                readInto(p, tensors, source);
            }
            for (var it = map.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!tensors.containsKey(e.getKey()))
                    throw new IllegalArgumentException(index + ": \"" + e.getKey() + "\" is listed in " + e.getValue().asText() + ", which does not hold it");
            }
        } else if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))) {
            throw new IllegalArgumentException(dir.resolve("pytorch_model.bin") + ": PyTorch pickle checkpoints are not read (they can run code); "
                    + "convert the folder to safetensors first, e.g. in Python: AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)");
        } else {
            throw new IllegalArgumentException(single + ": missing (and no " + INDEX + "): the folder has no weights");
        }
        return new Weights(tensors, source);
    }

    private static void readInto(Path file, Map<String, Tensor> tensors, Map<String, Path> source) {
        try {
            for (var e : SafeTensors.load(file).entrySet()) {
                if (tensors.put(e.getKey(), e.getValue()) != null)
                    throw new IllegalArgumentException(file + ": tensor \"" + e.getKey() + "\" also appears in " + source.get(e.getKey()));
                source.put(e.getKey(), file);
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": missing");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * What loading did besides copying: checkpoint keys the model has no use for (another head, say) and model keys the
     * checkpoint lacked that were left as initialised (a new classification head).
     */
    public record LoadReport(List<String> unused, List<String> newlyInitialized) {}

    /**
     * Copies the checkpoint into {@code model} (converted to the model's dtype).
     *
     * @param basePrefix  the base model's key prefix in head models ("bert.", "transformer.", "vit.")
     * @param tied        checkpoint keys that are copies of another weight (lm_head.weight): dropped
     * @param newHeads    key prefixes the checkpoint may lack (left as initialised, reported), e.g. "classifier."
     * @param replaceHeads with a new head, keys under {@code newHeads} whose shapes differ are left as initialised too
     * @throws IllegalArgumentException on a missing key or a shape mismatch, naming the file, the key and both shapes
     */
    public LoadReport loadInto(Module model, Weights w, String basePrefix, Set<String> tied, Set<String> newHeads, boolean replaceHeads) {
        LinkedHashMap<String, Tensor> mine = model.stateDict();
        boolean modelHasBase = mine.keySet().stream().anyMatch(k -> k.startsWith(basePrefix));
        boolean ckptHasBase = w.tensors().keySet().stream().anyMatch(k -> k.startsWith(basePrefix));
        LinkedHashMap<String, Tensor> state = new LinkedHashMap<>();
        Map<String, String> original = new LinkedHashMap<>();
        List<String> unused = new ArrayList<>();
        for (var e : w.tensors().entrySet()) {
            String k = e.getKey();
            if (isBuffer(k) || tied.contains(k)) continue;
            String key = legacyName(k);
            if (modelHasBase && !ckptHasBase) key = basePrefix + key;          // a base checkpoint into a head model
            else if (!modelHasBase && ckptHasBase) {                           // a head checkpoint into a base model
                if (!key.startsWith(basePrefix)) {
                    unused.add(k);
                    continue;
                }
                key = key.substring(basePrefix.length());
            }
            if (!mine.containsKey(key)) {
                unused.add(k);
                continue;
            }
            state.put(key, e.getValue());
            original.put(key, k);
        }
        List<String> missing = new ArrayList<>(), fresh = new ArrayList<>(), mismatched = new ArrayList<>();
        for (var e : mine.entrySet()) {
            String key = e.getKey();
            boolean head = newHeads.stream().anyMatch(key::startsWith);
            Tensor t = state.get(key);
            if (t == null) {
                if (head) fresh.add(key);
                else missing.add(key);
            } else if (!Arrays.equals(t.shape(), e.getValue().shape())) {
                if (head && replaceHeads) {
                    state.remove(key);
                    fresh.add(key);
                } else {
                    String k = original.get(key);
                    mismatched.add(w.where(k) + ": \"" + k + "\" has shape " + Arrays.toString(t.shape()) + ", the model (from " + CONFIG
                            + ") expects " + Arrays.toString(e.getValue().shape()));
                }
            }
        }
        if (!mismatched.isEmpty())
            throw new IllegalArgumentException(dir + ": " + mismatched.size() + " weight" + (mismatched.size() == 1 ? "" : "s")
                    + " do not match the config: " + String.join("; ", mismatched.subList(0, Math.min(5, mismatched.size())))
                    + (mismatched.size() > 5 ? "; ..." : ""));
        if (!missing.isEmpty())
            throw new IllegalArgumentException(dir + ": the checkpoint lacks " + missing.size() + " weight" + (missing.size() == 1 ? "" : "s")
                    + " of " + model.getClass().getSimpleName() + ": " + String.join(", ", missing.subList(0, Math.min(8, missing.size())))
                    + (missing.size() > 8 ? ", ..." : "") + (unused.isEmpty() ? "" : " (it has unused keys such as " + unused.getFirst() + ")"));
        state.replaceAll((k, t) -> t.to(mine.get(k).dtype())); // bf16 / fp16 checkpoints into an fp32 model
        try (var g = Grad.disabled()) {
            model.loadStateDict(state, false);
        }
        return new LoadReport(List.copyOf(unused), List.copyOf(fresh));
    }

    /** Buffers some checkpoints carry that are not weights: GPT-2's causal-mask {@code attn.bias}, BERT's position_ids. */
    static boolean isBuffer(String key) {
        return key.endsWith(".attn.bias") || key.endsWith(".attn.masked_bias") || key.endsWith("position_ids");
    }

    /** TensorFlow-era LayerNorm names: {@code LayerNorm.gamma} / {@code .beta} -> {@code .weight} / {@code .bias}. */
    static String legacyName(String key) {
        if (key.endsWith(".gamma")) return key.substring(0, key.length() - 6) + ".weight";
        if (key.endsWith(".beta")) return key.substring(0, key.length() - 5) + ".bias";
        return key;
    }

    // ---------------------------------------------------------------------------------------------- writing

    /**
     * Writes a folder that {@code transformers} loads: {@code config.json} and {@code model.safetensors} (F32, the
     * model's state-dict keys, which are Hugging Face's), each file atomically. Extra files (tokenizer, image processor)
     * are copied from {@code copyFrom} if given.
     */
    public static void save(Path dir, Module model, ObjectNode config, Path copyFrom) throws IOException {
        Files.createDirectories(dir);
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        model.stateDict().forEach((k, t) -> sd.put(k, t.to(DType.F32)));
        SafeTensors.save(dir.resolve(WEIGHTS), sd, Map.of("format", "pt"));
        Files.deleteIfExists(dir.resolve(INDEX));
        Path tmp = dir.resolve(CONFIG + ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), config);
        Files.move(tmp, dir.resolve(CONFIG), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        if (copyFrom != null && !copyFrom.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
            for (String f : new TreeSet<>(List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                    "vocab.json", "merges.txt", "preprocessor_config.json", "generation_config.json"))) {
                Path src = copyFrom.resolve(f);
                if (Files.isRegularFile(src)) Files.copy(src, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
