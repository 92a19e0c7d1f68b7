package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The moving average of the weights: its formula, the evaluation swap, its checkpointed state. */
class ModelEmaTest {
    static Linear model(long seed) {
        return new Linear(3, 2, true, new Random4j(seed));
    }

    static ModelEma ema(Linear m, double decay) {
        return new ModelEma(Optimizers.create(m, "sgd", 0.05, 0, "constant", 0, 10, 0), m, decay);
    }

    /** One SGD step on a loss whose gradient is not 0. */
    static void step(ModelEma opt, Linear m, long step) {
        opt.zeroGrad();
        m.forward(Tensor.randn(new Random4j(100 + step), 4, 3)).pow(2).sum().backward();
        opt.step(step);
    }

    @Test
    void afterEachStepTheAverageMovesTowardsTheWeightsByOneMinusDecay() {
        Linear m = model(1);
        ModelEma opt = ema(m, 0.8);
        double[] expected = m.weight.data().toDoubleArray();
        for (long s = 0; s < 5; s++) {
            step(opt, m, s);
            double[] w = m.weight.data().toDoubleArray();
            for (int i = 0; i < w.length; i++) expected[i] = 0.8 * expected[i] + 0.2 * w[i];
        }
        double[] got = opt.averages().get("weight").toDoubleArray(), w = m.weight.data().toDoubleArray();
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).as("element %d", i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6 * Math.max(1, Math.abs(expected[i]))));
            assertThat(got[i]).isNotEqualTo(w[i]); // the average lags the weights
        }
    }

    @Test
    void evaluationWeightsAreTheAverageUntilClosed() {
        Linear m = model(2);
        ModelEma opt = ema(m, 0.5);
        for (long s = 0; s < 3; s++) step(opt, m, s);
        float[] trained = m.weight.data().toFloatArray(), average = opt.averages().get("weight").toFloatArray();
        try (var w = opt.evaluationWeights()) {
            assertThat(m.weight.data().toFloatArray()).containsExactly(average);
        }
        assertThat(m.weight.data().toFloatArray()).containsExactly(trained);
        assertThat(opt.averages().get("weight").toFloatArray()).containsExactly(average);
    }

    @Test
    void theStateRoundTripsAndANonEmaCheckpointIsRefused() {
        Linear a = model(3);
        ModelEma opt = ema(a, 0.9);
        for (long s = 0; s < 3; s++) step(opt, a, s);
        Map<String, Tensor> state = opt.stateTensors();
        assertThat(state).containsKeys("ema.weight", "ema.bias");
        Linear b = model(4);
        ModelEma restored = ema(b, 0.9);
        restored.loadState(state, opt.stateJson());
        assertThat(restored.averages().get("weight").toFloatArray()).containsExactly(opt.averages().get("weight").toFloatArray());
        Map<String, Tensor> withoutEma = new LinkedHashMap<>(state);
        withoutEma.keySet().removeIf(k -> k.startsWith("ema."));
        assertThatThrownBy(() -> ema(model(5), 0.9).loadState(withoutEma, opt.stateJson()))
                .hasMessageContaining("no moving average of weight (was the run trained without --ema?)");
        assertThatThrownBy(() -> ema(model(6), 1.0)).hasMessageContaining("--ema: the decay must be in [0, 1), got 1.0");
    }

    /** The update is device work only: a captured GPU step can hold it (no host transfer inside the capture). */
    @Test
    void theUpdateMakesNoHostTransfer() {
        Linear m = model(8);
        ModelEma opt = ema(m, 0.9);
        step(opt, m, 0);
        opt.zeroGrad();
        m.forward(Tensor.randn(new Random4j(9), 4, 3)).pow(2).sum().backward();
        io.github.transformers4j.tensor.Capture.begin();
        try {
            org.assertj.core.api.Assertions.assertThatCode(() -> opt.step(1)).doesNotThrowAnyException();
        } finally {
            io.github.transformers4j.tensor.Capture.end();
        }
    }

    @Test
    void aCheckpointsEvaluationWeightsAreTheAverage() {
        Linear m = model(7);
        ModelEma opt = ema(m, 0.7);
        step(opt, m, 0);
        var ck = new Checkpoint(m.stateDict(), opt.stateTensors(), Map.of());
        assertThat(ck.weights().keySet()).containsExactlyElementsOf(ck.model().keySet());
        assertThat(ck.weights().get("weight").toFloatArray()).containsExactly(opt.averages().get("weight").toFloatArray());
        var plain = new Checkpoint(m.stateDict(), Map.of(), Map.of());
        assertThat(plain.weights()).isSameAs(plain.model());
    }
}
