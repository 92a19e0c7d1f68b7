package io.github.transformers4j.nn.recurrent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
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

    /** The fixture's parameters, loaded strictly under PyTorch's names (the module converted to the fixture's dtype first). */
    static void loadParams(Module m, Fixture fx) {
        m.to(fx.dtype());
        Module.LoadResult r = m.loadStateDict(fx.params(), true);
        assertThat(r.ok()).as(r.toString()).isTrue();
    }

    static RNNBase.Options options(JsonNode c) {
        return RNNBase.Options.of(c.get("input_size").asInt(), c.get("hidden_size").asInt())
                .numLayers(c.get("num_layers").asInt()).bias(c.get("bias").asBoolean())
                .batchFirst(c.get("batch_first").asBoolean()).dropout(c.get("dropout").asDouble())
                .bidirectional(c.get("bidirectional").asBoolean());
    }

    /** Checks outputs, backpropagates the fixture's loss and checks every input and parameter gradient. */
    private static void checkAll(Fixture fx, Module m, Map<String, Tensor> outputs, Map<String, Tensor> inputs) {
        assertThat(outputs.keySet()).containsExactlyInAnyOrderElementsOf(fx.withPrefix("output.").keySet());
        outputs.forEach((k, v) -> fx.assertClose("output." + k, v));
        fx.loss(outputs).backward();
        assertThat(inputs.keySet()).containsExactlyInAnyOrderElementsOf(fx.withPrefix("grad.input.").keySet());
        inputs.forEach((k, v) -> fx.assertClose("grad.input." + k, v.grad()));
        assertThat(m.namedParameters().keySet()).containsExactlyInAnyOrderElementsOf(fx.paramGrads().keySet());
        fx.assertParamGradsClose(m.namedParameters());
        for (var e : m.namedParameters().entrySet()) assertThat(e.getValue().grad()).as(e.getKey() + " has a gradient").isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"gru_2layer_bidir", "gru_2layer_bidir_f64", "lstm_2layer_bidir", "lstm_2layer_bidir_f64", "rnn_tanh_1layer"})
    void multiLayerMatchesPyTorch(String name) {
        Fixture fx = Fixture.load(name);
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
        inputs.put("input", fx.inputWithGrad("input"));
        inputs.put("h0", fx.inputWithGrad("h0"));
        if (m instanceof LSTM) inputs.put("c0", fx.inputWithGrad("c0"));
        RNNBase.Output out = m.forward(inputs.get("input"), inputs.get("h0"), inputs.get("c0")); // one forward for RNN, GRU and LSTM
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        outputs.put("output", out.output());
        outputs.put("h_n", out.hN());
        if (out.cN() != null) outputs.put("c_n", out.cN());
        assertThat(outputs.keySet()).containsExactlyInAnyOrderElementsOf(fx.withPrefix("output.").keySet());
        checkAll(fx, m, outputs, inputs);
    }

    @Test
    void gruCellMatchesPyTorch() {
        Fixture fx = Fixture.load("gru_cell");
        JsonNode c = fx.config();
        GRUCell cell = new GRUCell(c.get("input_size").asInt(), c.get("hidden_size").asInt(), true, new Random4j(1));
        assertThat(new ArrayList<>(cell.stateDict().keySet())).containsExactlyElementsOf(stateDictKeys(fx));
        loadParams(cell, fx);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("input", fx.inputWithGrad("input"));
        inputs.put("hx", fx.inputWithGrad("hx"));
        checkAll(fx, cell, Map.of("h", cell.forward(inputs.get("input"), inputs.get("hx"))), inputs);
    }

    @Test
    void lstmCellMatchesPyTorch() {
        Fixture fx = Fixture.load("lstm_cell");
        JsonNode c = fx.config();
        LSTMCell cell = new LSTMCell(c.get("input_size").asInt(), c.get("hidden_size").asInt(), true, new Random4j(1));
        assertThat(new ArrayList<>(cell.stateDict().keySet())).containsExactlyElementsOf(stateDictKeys(fx));
        loadParams(cell, fx);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("input", fx.inputWithGrad("input"));
        inputs.put("hx", fx.inputWithGrad("hx"));
        inputs.put("cx", fx.inputWithGrad("cx"));
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
            f.tensors().forEach((k, raw) -> sd.put(k, Fixture.toTensor(raw, name + ":" + k)));
        }
        RNNBase.Options o = RNNBase.Options.of(6, 8).numLayers(2).batchFirst(true).bidirectional(true);
        RNNBase m = name.startsWith("gru") ? new GRU(o, new Random4j(3)) : new LSTM(o, new Random4j(3));
        Module.LoadResult r = m.loadStateDict(sd, true);
        assertThat(r.ok()).as(r.toString()).isTrue();
        for (var e : sd.entrySet()) {
            assertThat(m.stateDict().get(e.getKey()).toFloatArray()).as(e.getKey()).containsExactly(e.getValue().toFloatArray());
        }
    }

    private static List<String> stateDictKeys(Fixture fx) {
        List<String> keys = new ArrayList<>();
        try {
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(fx.metadata().get("state_dict_keys")).forEach(n -> keys.add(n.asText()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return keys;
    }

    /** One forward for the three layers; a cell state for a layer without one is an error, not ignored. */
    @Test
    void aCellStateForAGruIsAnErrorThatNamesIt() {
        RNNBase gru = new GRU(new RNNBase.Options(4, 3, 1, true, true, 0, false), new Random4j(1));
        Tensor x = Tensor.randn(new Random4j(2), 2, 5, 4);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> gru.forward(x, null, Tensor.zeros(1, 2, 3)))
                .hasMessageContaining("GRU: c0 [1, 2, 3] given, but only an LSTM has a cell state");
        RNNBase.Output o = gru.forward(x, null, null);
        assertThat(o.output().shape()).containsExactly(2, 5, 3);
        assertThat(o.cN()).isNull();
    }
}
