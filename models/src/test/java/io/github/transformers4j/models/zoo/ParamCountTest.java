package io.github.transformers4j.models.zoo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Random4j;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every preset has exactly the parameters of its PyTorch definition (tools/fixtures/models.py, {@code preset()}):
 * the counts in param_counts.json were computed by PyTorch on the GPU machine (gen_models.py), for 28x28x1 and
 * 32x32x3 images, 10 classes; for 28x28x1 also every state-dict key with its shape.
 */
class ParamCountTest {
    static JsonNode counts;

    @BeforeAll
    static void read() throws IOException {
        counts = ZooFixture.JSON.readTree(Files.readString(ZooFixture.resource("param_counts.json"))).get("presets");
    }

    static final Map<String, Module> BUILT = new java.util.HashMap<>();

    /** Builds each (preset, shape) once per test class: the large presets take a moment to initialise. */
    static Module build(String preset, int size, int channels) {
        return BUILT.computeIfAbsent(preset + "/" + size + "/" + channels, k -> create(preset, size, channels));
    }

    static Module create(String preset, int size, int channels) {
        return preset.equals("mae-tiny-pretrain") ? ModelZoo.createPretrainer("mae-tiny", size, channels, new Random4j(0))
                : ModelZoo.create(preset, size, channels, 10, new Random4j(0));
    }

    @Test
    void everyPresetHasAPyTorchCount() {
        List<String> torch = new ArrayList<>();
        counts.fieldNames().forEachRemaining(torch::add);
        assertThat(torch).containsAll(ModelZoo.names(ModelZoo.Task.IMAGE_CLASSIFICATION)).contains("mae-tiny-pretrain");
    }

    @Test
    void parameterCountsEqualPyTorchs() {
        for (String preset : ModelZoo.names(ModelZoo.Task.IMAGE_CLASSIFICATION)) {
            for (var shape : List.of(new int[] {28, 1}, new int[] {32, 3})) {
                String key = shape[0] + "x" + shape[0] + "x" + shape[1];
                long torch = counts.get(preset).get(key).get("parameters").asLong();
                assertThat(build(preset, shape[0], shape[1]).numParameters()).as(preset + " " + key).isEqualTo(torch);
            }
        }
        long pretrain = counts.get("mae-tiny-pretrain").get("28x28x1").get("parameters").asLong();
        assertThat(build("mae-tiny-pretrain", 28, 1).numParameters()).isEqualTo(pretrain);
    }

    @Test
    void stateDictKeysAndShapesEqualPyTorchs() {
        counts.fieldNames().forEachRemaining(preset -> {
            Map<String, List<Integer>> torch = new LinkedHashMap<>();
            counts.get(preset).get("28x28x1").get("state_dict").fields().forEachRemaining(e -> {
                List<Integer> s = new ArrayList<>();
                e.getValue().forEach(n -> s.add(n.asInt()));
                torch.put(e.getKey(), s);
            });
            Map<String, List<Integer>> ours = new LinkedHashMap<>();
            build(preset, 28, 1).stateDict().forEach((k, t) -> {
                List<Integer> s = new ArrayList<>();
                for (int d : t.shape()) s.add(d);
                ours.put(k, s);
            });
            assertThat(ours).as(preset).containsExactlyInAnyOrderEntriesOf(torch);
        });
    }

    @Test
    void describePrintsTheCount() {
        ImageClassifier gru = ModelZoo.create("gru-p16", 28, 1, 10, new Random4j(0));
        long torch = counts.get("gru-p16").get("28x28x1").get("parameters").asLong();
        assertThat(ModelZoo.describe("gru-p16", gru)).contains(String.format("%,d parameters", torch)).contains("4 time steps");
    }
}
