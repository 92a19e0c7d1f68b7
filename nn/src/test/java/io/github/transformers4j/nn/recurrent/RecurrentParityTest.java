package io.github.transformers4j.nn.recurrent;

import static io.github.transformers4j.optim.FixtureFile.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.optim.FixtureFile;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Outputs and every gradient against PyTorch 2.11 (fixtures written by tools/fixtures/gen_*.py):
 * loss = sum over outputs of sum(output * gradout).
 */
class RecurrentParityTest {

    private static double rtol(Tensor t) {
        return t.dtype() == DType.F64 ? 1e-9 : 1e-4;
    }

    private static double atol(Tensor t) {
        return t.dtype() == DType.F64 ? 1e-11 : 1e-5;
    }

    /** Installs the fixture's parameters: strict loadStateDict for F32; for F64 the tensors themselves (the module is F32). */
    static void loadParams(Module m, FixtureFile fx) {
        Map<String, Tensor> sd = fx.withPrefix("param.");
        if (sd.values().iterator().next().dtype() == DType.F32) {
            assertThat(m.loadStateDict(sd, true).ok()).isTrue();
        } else {
            LinkedHashMap<String, Parameter> mine = m.namedParameters();
            assertThat(mine.keySet()).containsExactlyInAnyOrderElementsOf(sd.keySet());
            sd.forEach((k, v) -> mine.get(k).set(v));
        }
    }

    static RNNBase.Options options(JsonNode c) {
        return RNNBase.Options.of(c.get("input_size").asInt(), c.get("hidden_size").asInt())
                .numLayers(c.get("num_layers").asInt()).bias(c.get("bias").asBoolean())
                .batchFirst(c.get("batch_first").asBoolean()).dropout(c.get("dropout").asDouble())
                .bidirectional(c.get("bidirectional").asBoolean());
    }

    private static Tensor input(FixtureFile fx, String name) {
        return fx.get("input." + name).detach().clone().requiresGrad(true);
    }

    /** Checks outputs, backpropagates sum(out * gradout) and checks input and parameter gradients. */
    private static void checkAll(FixtureFile fx, Module m, Map<String, Tensor> outputs, Map<String, Tensor> inputs) {
        Tensor loss = null;
        for (var e : outputs.entrySet()) {
            Tensor expected = fx.get("output." + e.getKey());
            assertClose(fx.name() + " output." + e.getKey(), e.getValue(), expected, rtol(expected), atol(expected));
            Tensor term = e.getValue().mul(fx.get("gradout." + e.getKey())).sum();
            loss = loss == null ? term : loss.add(term);
        }
        loss.backward();
        int checked = 0;
        for (var e : inputs.entrySet()) {
            Tensor expected = fx.get("grad.input." + e.getKey());
            assertClose(fx.name() + " grad.input." + e.getKey(), e.getValue().grad(), expected, rtol(expected), atol(expected));
            checked++;
        }
        for (var e : m.namedParameters().entrySet()) {
            Tensor expected = fx.get("grad.param." + e.getKey());
            assertClose(fx.name() + " grad.param." + e.getKey(), e.getValue().grad(), expected, rtol(expected), atol(expected));
            checked++;
        }
        assertThat(checked).isEqualTo(fx.withPrefix("grad.").size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gru_2layer_bidir", "gru_2layer_bidir_f64", "lstm_2layer_bidir", "lstm_2layer_bidir_f64", "rnn_tanh_1layer"})
    void multiLayerMatchesPyTorch(String name) {
        FixtureFile fx = FixtureFile.load(name);
        JsonNode c = fx.config();
        RNNBase.Options o = options(c);
        String kind = c.get("module").asText();
        RNNBase m = switch (kind) {
            case "GRU" -> new GRU(o, new Random4j(1));
            case "LSTM" -> new LSTM(o, new Random4j(1));
            case "RNN" -> new RNN(o, RNNCell.Nonlinearity.valueOf(c.get("nonlinearity").asText().toUpperCase()), new Random4j(1));
            default -> throw new IllegalArgumentException(kind);
        };
        assertThat(new ArrayList<>(m.stateDict().keySet())).as("state dict keys in PyTorch's order")
                .containsExactlyElementsOf(stateDictKeys(fx));
        loadParams(m, fx);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("input", input(fx, "input"));
        inputs.put("h0", input(fx, "h0"));
        RNNBase.Output out;
        if (m instanceof LSTM lstm) {
            inputs.put("c0", input(fx, "c0"));
            out = lstm.forward(inputs.get("input"), inputs.get("h0"), inputs.get("c0"));
        } else {
            out = m instanceof GRU gru ? gru.forward(inputs.get("input"), inputs.get("h0"))
                    : ((RNN) m).forward(inputs.get("input"), inputs.get("h0"));
        }
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        outputs.put("output", out.output());
        outputs.put("h_n", out.hN());
        if (out.cN() != null) outputs.put("c_n", out.cN());
        assertThat(outputs.keySet()).containsExactlyInAnyOrderElementsOf(fx.withPrefix("output.").keySet());
        checkAll(fx, m, outputs, inputs);
    }

    @Test
    void gruCellMatchesPyTorch() {
        FixtureFile fx = FixtureFile.load("gru_cell");
        JsonNode c = fx.config();
        GRUCell cell = new GRUCell(c.get("input_size").asInt(), c.get("hidden_size").asInt(), true, new Random4j(1));
        assertThat(new ArrayList<>(cell.stateDict().keySet())).containsExactlyElementsOf(stateDictKeys(fx));
        loadParams(cell, fx);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("input", input(fx, "input"));
        inputs.put("hx", input(fx, "hx"));
        checkAll(fx, cell, Map.of("h", cell.forward(inputs.get("input"), inputs.get("hx"))), inputs);
    }

    @Test
    void lstmCellMatchesPyTorch() {
        FixtureFile fx = FixtureFile.load("lstm_cell");
        JsonNode c = fx.config();
        LSTMCell cell = new LSTMCell(c.get("input_size").asInt(), c.get("hidden_size").asInt(), true, new Random4j(1));
        assertThat(new ArrayList<>(cell.stateDict().keySet())).containsExactlyElementsOf(stateDictKeys(fx));
        loadParams(cell, fx);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("input", input(fx, "input"));
        inputs.put("hx", input(fx, "hx"));
        inputs.put("cx", input(fx, "cx"));
        LSTMCell.State s = cell.forward(inputs.get("input"), inputs.get("hx"), inputs.get("cx"));
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        outputs.put("h", s.h());
        outputs.put("c", s.c());
        checkAll(fx, cell, outputs, inputs);
    }

    /** State dicts written by the safetensors package from PyTorch modules load strictly, with no renaming. */
    @ParameterizedTest
    @ValueSource(strings = {"gru_2layer_bidir", "lstm_2layer_bidir"})
    void pyTorchStateDictLoadsStrictly(String name) throws Exception {
        Path path = Path.of(getClass().getResource("/fixtures/statedict/" + name + ".safetensors").toURI());
        Map<String, Tensor> sd = new LinkedHashMap<>();
        try (SafeTensorsFile f = SafeTensors.read(path)) {
            f.tensors().forEach((k, raw) -> sd.put(k, Tensor.fromBytes(DType.valueOf(raw.dtype()),
                    Arrays.stream(raw.shape()).mapToInt(Math::toIntExact).toArray(), raw.byteBuffer())));
        }
        RNNBase.Options o = RNNBase.Options.of(6, 8).numLayers(2).batchFirst(true).bidirectional(true);
        RNNBase m = name.startsWith("gru") ? new GRU(o, new Random4j(3)) : new LSTM(o, new Random4j(3));
        Module.LoadResult r = m.loadStateDict(sd, true);
        assertThat(r.ok()).as(r.toString()).isTrue();
        for (var e : sd.entrySet()) {
            assertThat(m.stateDict().get(e.getKey()).toFloatArray()).as(e.getKey()).containsExactly(e.getValue().toFloatArray());
        }
    }

    private static List<String> stateDictKeys(FixtureFile fx) {
        List<String> keys = new ArrayList<>();
        try {
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(fx.metadata("state_dict_keys")).forEach(n -> keys.add(n.asText()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return keys;
    }
}
