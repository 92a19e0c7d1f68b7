package io.github.transformers4j.nn.recurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.GradCheck;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecurrentBehaviourTest {

    private static Tensor randn64(long seed, int... shape) {
        return Tensor.randn(new Random4j(seed), shape).to(DType.F64);
    }

    /** Every parameter as F64 (GradCheck works in F64). */
    private static <M extends Module> M toF64(M m) {
        m.to(DType.F64);
        return m;
    }

    // ------------------------------------------------------------------ gradient checks (F64 finite differences)

    @Test
    void gruGradCheckInputAndState() {
        GRU gru = toF64(new GRU(RNNBase.Options.of(3, 2).numLayers(2).bidirectional(true).batchFirst(true), new Random4j(5)));
        Tensor x = randn64(1, 2, 3, 3).requiresGrad(true), h0 = randn64(2, 4, 2, 2).requiresGrad(true);
        double err = GradCheck.maxError(a -> {
            RNNBase.Output o = gru.forward(a[0], a[1]);
            return Tensor.cat(List.of(o.output().reshape(-1), o.hN().reshape(-1)), 0);
        }, x, h0);
        assertThat(err).isLessThan(1e-6);
    }

    @Test
    void lstmGradCheckInputAndStates() {
        LSTM lstm = toF64(new LSTM(RNNBase.Options.of(3, 2).numLayers(2).bidirectional(true), new Random4j(6)));
        Tensor x = randn64(3, 3, 2, 3).requiresGrad(true);
        Tensor h0 = randn64(4, 4, 2, 2).requiresGrad(true), c0 = randn64(5, 4, 2, 2).requiresGrad(true);
        double err = GradCheck.maxError(a -> {
            RNNBase.Output o = lstm.forward(a[0], a[1], a[2]);
            return Tensor.cat(List.of(o.output().reshape(-1), o.hN().reshape(-1), o.cN().reshape(-1)), 0);
        }, x, h0, c0);
        assertThat(err).isLessThan(1e-6);
    }

    @Test
    void rnnReluGradCheck() {
        RNN rnn = toF64(new RNN(RNNBase.Options.of(3, 4), RNNCell.Nonlinearity.RELU, new Random4j(7)));
        Tensor x = randn64(8, 3, 2, 3).requiresGrad(true);
        double err = GradCheck.maxError(a -> rnn.forward(a[0]).output(), x);
        assertThat(err).isLessThan(1e-6);
    }

    /** The cell math against finite differences in every operand, weights and biases included. */
    @Test
    void cellStepsGradCheckIncludingWeights() {
        int in = 3, h = 2, b = 2;
        Tensor x = randn64(10, b, in).requiresGrad(true), hx = randn64(11, b, h).requiresGrad(true), cx = randn64(12, b, h).requiresGrad(true);
        for (int gates : new int[] {1, 3, 4}) {
            Tensor wih = randn64(20 + gates, gates * h, in).requiresGrad(true), whh = randn64(30 + gates, gates * h, h).requiresGrad(true);
            Tensor bih = randn64(40 + gates, gates * h).requiresGrad(true), bhh = randn64(50 + gates, gates * h).requiresGrad(true);
            double err = GradCheck.maxError(a -> {
                Tensor gi = CellBase.linear(a[0], a[3], a[5]);
                return switch (gates) {
                    case 1 -> RNNCell.step(gi, a[1], a[4], a[6], RNNCell.Nonlinearity.TANH);
                    case 3 -> GRUCell.step(gi, a[1], a[4], a[6]);
                    default -> {
                        LSTMCell.State s = LSTMCell.step(gi, new LSTMCell.State(a[1], a[2]), a[4], a[6]);
                        yield Tensor.cat(List.of(s.h(), s.c()), 1);
                    }
                };
            }, x, hx, cx, wih, whh, bih, bhh);
            assertThat(err).as("gates " + gates).isLessThan(1e-6);
        }
    }

    // ------------------------------------------------------------------ semantics

    /** A GRU reads order: permuting the time steps changes the outputs beyond the same permutation. */
    @Test
    void gruIsNotPermutationEquivariantOverTime() {
        GRU gru = new GRU(RNNBase.Options.of(4, 6).batchFirst(true), new Random4j(9));
        Tensor x = Tensor.randn(new Random4j(10), 2, 5, 4);
        Tensor perm = Tensor.ofLongs(new long[] {3, 0, 4, 1, 2}, 5);
        try (var g = Grad.disabled()) {
            Tensor permutedThenRun = gru.forward(x.indexSelect(1, perm)).output();
            Tensor runThenPermuted = gru.forward(x).output().indexSelect(1, perm);
            assertThat(Fixture.maxAbsDiff(permutedThenRun, runThenPermuted)).isGreaterThan(1e-2);
            // the batch dimension, by contrast, is independent rows: permuting it permutes the output exactly
            Tensor bperm = Tensor.ofLongs(new long[] {1, 0}, 2);
            assertThat(Fixture.maxAbsDiff(gru.forward(x.indexSelect(0, bperm)).output(), gru.forward(x).output().indexSelect(0, bperm)))
                    .isLessThan(1e-6);
        }
    }

    @Test
    void batchFirstAndTimeMajorAgree() {
        RNNBase.Options o = RNNBase.Options.of(3, 4).numLayers(2).bidirectional(true);
        LSTM timeMajor = new LSTM(o, new Random4j(11)), batchFirst = new LSTM(o.batchFirst(true), new Random4j(11));
        Tensor x = Tensor.randn(new Random4j(12), 2, 5, 3); // (B, L, in)
        try (var g = Grad.disabled()) {
            RNNBase.Output a = batchFirst.forward(x), b = timeMajor.forward(x.transpose(0, 1));
            assertThat(a.output().shape()).containsExactly(2, 5, 8);
            assertThat(b.output().shape()).containsExactly(5, 2, 8);
            assertThat(Fixture.maxAbsDiff(a.output(), b.output().transpose(0, 1))).isZero();
            assertThat(Fixture.maxAbsDiff(a.hN(), b.hN())).isZero();
            assertThat(Fixture.maxAbsDiff(a.cN(), b.cN())).isZero();
        }
    }

    /** h_n holds each direction's last state: the forward one at the last step, the reverse one at the first. */
    @Test
    void finalStatesComeFromTheEndOfEachDirection() {
        GRU gru = new GRU(RNNBase.Options.of(3, 4).numLayers(2).bidirectional(true), new Random4j(13));
        Tensor x = Tensor.randn(new Random4j(14), 6, 2, 3);
        try (var g = Grad.disabled()) {
            RNNBase.Output o = gru.forward(x);
            Tensor last = o.output().select(0, 5), first = o.output().select(0, 0);
            assertThat(Fixture.maxAbsDiff(o.hN().select(0, 2), last.narrow(1, 0, 4))).isZero();
            assertThat(Fixture.maxAbsDiff(o.hN().select(0, 3), first.narrow(1, 4, 4))).isZero();
        }
    }

    @Test
    void unbatchedInputMatchesBatchOfOne() {
        LSTM lstm = new LSTM(RNNBase.Options.of(3, 4).bidirectional(true), new Random4j(15));
        Tensor x = Tensor.randn(new Random4j(16), 5, 3);
        Tensor h0 = Tensor.randn(new Random4j(17), 2, 4), c0 = Tensor.randn(new Random4j(18), 2, 4);
        try (var g = Grad.disabled()) {
            RNNBase.Output u = lstm.forward(x, h0, c0), b = lstm.forward(x.unsqueeze(1), h0.unsqueeze(1), c0.unsqueeze(1));
            assertThat(u.output().shape()).containsExactly(5, 8);
            assertThat(u.hN().shape()).containsExactly(2, 4);
            assertThat(Fixture.maxAbsDiff(u.output(), b.output().squeeze(1))).isZero();
            assertThat(Fixture.maxAbsDiff(u.cN(), b.cN().squeeze(1))).isZero();
        }
    }

    @Test
    void missingInitialStateMeansZeros() {
        GRU gru = new GRU(RNNBase.Options.of(3, 4).numLayers(2), new Random4j(19));
        Tensor x = Tensor.randn(new Random4j(20), 4, 2, 3);
        try (var g = Grad.disabled()) {
            assertThat(Fixture.maxAbsDiff(gru.forward(x).output(), gru.forward(x, Tensor.zeros(2, 2, 4)).output())).isZero();
        }
    }

    /** A one-layer module is its cell applied step by step. */
    @Test
    void singleLayerEqualsCellUnrolled() {
        GRU gru = new GRU(RNNBase.Options.of(3, 4), new Random4j(21));
        GRUCell cell = new GRUCell(3, 4, true, new Random4j(22));
        for (String k : List.of("weight_ih", "weight_hh", "bias_ih", "bias_hh")) {
            cell.namedParameters().get(k).copyFrom(gru.namedParameters().get(k + "_l0").data());
        }
        Tensor x = Tensor.randn(new Random4j(23), 4, 2, 3);
        try (var g = Grad.disabled()) {
            Tensor out = gru.forward(x).output();
            Tensor h = Tensor.zeros(2, 4);
            for (int t = 0; t < 4; t++) {
                h = cell.forward(x.select(0, t), h);
                assertThat(Fixture.maxAbsDiff(out.select(0, t), h)).as("step " + t).isLessThan(1e-6);
            }
        }
    }

    @Test
    void dropoutActsBetweenLayersOnlyWhenTraining() {
        RNNBase.Options o = RNNBase.Options.of(3, 16).numLayers(2);
        GRU withDropout = new GRU(o.dropout(0.5), new Random4j(24)), plain = new GRU(o, new Random4j(24));
        Tensor x = Tensor.randn(new Random4j(25), 4, 2, 3);
        try (var g = Grad.disabled()) {
            assertThat(Fixture.maxAbsDiff(withDropout.forward(x).output(), plain.forward(x).output())).isGreaterThan(1e-3);
            withDropout.eval();
            assertThat(Fixture.maxAbsDiff(withDropout.forward(x).output(), plain.forward(x).output())).isZero();
            // a single layer has nothing to drop between
            GRU one = new GRU(RNNBase.Options.of(3, 16).dropout(0.5), new Random4j(26)), oneRef = new GRU(RNNBase.Options.of(3, 16), new Random4j(26));
            assertThat(Fixture.maxAbsDiff(one.forward(x).output(), oneRef.forward(x).output())).isZero();
        }
    }

    @Test
    void parameterNamesShapesAndInitRange() {
        LSTM lstm = new LSTM(RNNBase.Options.of(5, 4).numLayers(2).bidirectional(true), new Random4j(27));
        assertThat(lstm.namedParameters().keySet()).containsExactly(
                "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse");
        assertThat(lstm.namedParameters().get("weight_ih_l0").shape()).containsExactly(16, 5);
        assertThat(lstm.namedParameters().get("weight_ih_l1").shape()).containsExactly(16, 8);
        assertThat(lstm.namedParameters().get("weight_hh_l1_reverse").shape()).containsExactly(16, 4);
        double k = 1 / Math.sqrt(4);
        for (var e : lstm.namedParameters().entrySet()) {
            double[] v = e.getValue().data().toDoubleArray();
            double min = java.util.Arrays.stream(v).min().orElseThrow(), max = java.util.Arrays.stream(v).max().orElseThrow();
            assertThat(min).as(e.getKey()).isGreaterThanOrEqualTo(-k);
            assertThat(max).as(e.getKey()).isLessThanOrEqualTo(k);
            assertThat(max - min).as(e.getKey() + " spread").isGreaterThan(k / 2);
        }
        GRU noBias = new GRU(RNNBase.Options.of(5, 4).bias(false), new Random4j(28));
        assertThat(noBias.namedParameters().keySet()).containsExactly("weight_ih_l0", "weight_hh_l0");
        assertThat(new RNNCell(5, 4, false, RNNCell.Nonlinearity.TANH, new Random4j(29)).namedParameters().keySet())
                .containsExactly("weight_ih", "weight_hh");
    }

    @Test
    void shapeErrorsNameTheExpectedShapes() {
        GRU gru = new GRU(RNNBase.Options.of(3, 4).numLayers(2).batchFirst(true), new Random4j(30));
        assertThatThrownBy(() -> gru.forward(Tensor.zeros(2, 5, 7)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("GRU").hasMessageContaining("(B, L, 3)")
                .hasMessageContaining("[2, 5, 7]");
        assertThatThrownBy(() -> gru.forward(Tensor.zeros(2, 5, 3), Tensor.zeros(1, 2, 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("h0").hasMessageContaining("[2, 2, 4]")
                .hasMessageContaining("[1, 2, 4]");
        LSTMCell cell = new LSTMCell(3, 4);
        assertThatThrownBy(() -> cell.forward(Tensor.zeros(2, 3), Tensor.zeros(3, 4), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hx").hasMessageContaining("[2, 4]");
    }

    @Test
    void trainsOnATinySequenceTask() {
        // predict the sum of a sequence's first element and last element: needs memory across time steps
        GRU gru = new GRU(RNNBase.Options.of(1, 8).batchFirst(true), new Random4j(31));
        Tensor x = Tensor.randn(new Random4j(32), 32, 6, 1);
        Tensor y = x.select(1, 0).add(x.select(1, 5)); // (32, 1)
        Tensor head = Tensor.randn(new Random4j(33), 8, 1).mul(0.3).requiresGrad(true);
        double first = 0, last = 0;
        for (int it = 0; it < 150; it++) {
            Tensor pred = gru.forward(x).hN().select(0, 0).matmul(head);
            Tensor loss = pred.sub(y).square().mean();
            if (it == 0) first = loss.item();
            last = loss.item();
            gru.zeroGrad();
            head.setGrad(null);
            loss.backward();
            try (var g = Grad.disabled()) {
                for (Parameter p : gru.parameters()) p.data().add_(p.grad(), -0.1);
                head.add_(head.grad(), -0.1);
            }
        }
        assertThat(last).isLessThan(first * 0.3);
    }
}
