package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The device-agnostic side of graph capture, the autocast weight copies and the multi-tensor Adam fallback. */
class CaptureTest {
    @Test
    void hostWorkRunsNowWhenNotCapturingAndBeforeEveryReplayWhenCapturing() {
        List<String> log = new ArrayList<>();
        Capture.onReplay(() -> log.add("now"));
        assertThat(log).containsExactly("now");
        Capture.Session s = Capture.begin();
        try {
            Capture.onReplay(() -> log.add("replay"));
            assertThat(log).containsExactly("now");
        } finally {
            Capture.end();
        }
        s.prepareReplay();
        s.prepareReplay();
        assertThat(log).containsExactly("now", "replay", "replay");
    }

    @Test
    void hostTransfersInsideACaptureAreRefusedWithTheirName() {
        Tensor t = Tensor.full(0, DType.F64, Device.CPU, 2);
        Capture.begin();
        try {
            assertThatThrownBy(() -> Tensor.of(new float[] {1f}, 1)).isInstanceOf(Capture.CaptureException.class)
                    .hasMessageContaining("host-to-device");
            assertThatThrownBy(t::item).isInstanceOf(IllegalArgumentException.class); // shape checked first
            assertThatThrownBy(() -> t.sum().item()).isInstanceOf(Capture.CaptureException.class).hasMessageContaining("device-to-host");
            assertThatThrownBy(() -> t.copyFrom(new double[] {1, 2})).isInstanceOf(Capture.CaptureException.class);
        } finally {
            Capture.end();
        }
        assertThat(t.copyFrom(new double[] {1, 2}).sum().item()).isEqualTo(3.0);
    }

    @Test
    void replaysAdvanceEachGeneratorByTheSpanTheCaptureDrew() {
        Random4j rng = new Random4j(42, 10);
        Capture.Session s = Capture.begin();
        try {
            assertThat(rng.reserve(8)).isEqualTo(10); // 2 counters
            assertThat(rng.reserve(5)).isEqualTo(12); // 2 counters
        } finally {
            Capture.end();
        }
        assertThat(rng.counter()).isEqualTo(14);
        assertThat(s.prepareReplay()).containsEntry(42L, 0L);  // the first replay is the captured draw
        assertThat(s.prepareReplay()).containsEntry(42L, 4L);  // then the same span, moved on
        assertThat(s.prepareReplay()).containsEntry(42L, 8L);
        assertThat(rng.counter()).isEqualTo(22);
    }

    @Test
    void twoGeneratorsWithOneSeedCannotBeReplayed() {
        Capture.begin();
        new Random4j(7).reserve(4);
        new Random4j(7).reserve(4);
        assertThatThrownBy(Capture::end).isInstanceOf(Capture.CaptureException.class).hasMessageContaining("same seed");
        assertThat(Capture.active()).isFalse();
    }

    @Test
    void aGraphedStepOnTheCpuRunsEveryCallEagerly() {
        int[] calls = {0};
        try (GraphedStep step = new GraphedStep(Device.CPU, () -> calls[0]++, 2, "test step")) {
            for (int i = 0; i < 5; i++) step.run();
            assertThat(calls[0]).isEqualTo(5);
            assertThat(step.captured()).isFalse();
            assertThat(step.reason()).contains("no graph capture on");
        }
    }

    @Test
    void theAutocastWeightCopyIsCastOnceAndRefreshedAfterAnInPlaceChange() {
        Tensor w = Tensor.randn(new Random4j(1), 4, 3).requiresGrad(true);
        Tensor c1 = Autocast.weightCopy(w, DType.BF16), c2 = Autocast.weightCopy(w, DType.BF16);
        assertThat(c2).isSameAs(c1);
        assertThat(c1.toFloatArray()).containsExactly(w.to(DType.BF16).toFloatArray());
        try (var off = Grad.disabled()) {
            w.mul_(3.0);
        }
        Tensor c3 = Autocast.weightCopy(w, DType.BF16);
        assertThat(c3).isSameAs(c1); // refreshed in place: a captured graph keeps its address
        assertThat(c3.toFloatArray()).containsExactly(w.to(DType.BF16).toFloatArray());
        Tensor m = Tensor.full(0, DType.F32, Device.CPU, 4, 3), v = Tensor.full(0, DType.F32, Device.CPU, 4, 3);
        try (var off = Grad.disabled()) {
            NnOps.adamStep(w, Tensor.randn(new Random4j(2), 4, 3), m, v, 0.1, 0.9, 0.999, 1e-8, 0, 1, true);
        }
        assertThat(Autocast.weightCopy(w, DType.BF16).toFloatArray()).containsExactly(w.to(DType.BF16).toFloatArray());
    }

    @Test
    void linearUnderAutocastGivesTheGradientOfTheMasterWeightThroughTheCachedCopy() {
        Tensor x = Tensor.randn(new Random4j(3), 5, 3).requiresGrad(true), w = Tensor.randn(new Random4j(4), 2, 3).requiresGrad(true);
        Tensor y;
        try (var ac = Autocast.enable(DType.BF16)) {
            y = NnOps.linear(x, w, null);
        }
        y.sum().backward();
        assertThat(w.grad().dtype()).isEqualTo(DType.F32);
        // d sum(x w^T) / dw = column sums of the bf16-rounded x (the CPU composite rounds the product gradient to bf16 too)
        float[] xs = x.to(DType.BF16).to(DType.F32).sum(0, false).toFloatArray(), gw = w.grad().toFloatArray();
        for (int j = 0; j < 2; j++) for (int k = 0; k < 3; k++) assertThat(gw[3 * j + k]).isCloseTo(xs[k], org.assertj.core.data.Offset.offset(1e-2f * Math.max(1f, Math.abs(xs[k]))));
    }

    @Test
    void clippingOnTheDeviceScalesByMaxNormOverTheGlobalNorm() {
        Tensor a = Tensor.of(new float[] {3, 0}, 2), b = Tensor.of(new float[] {4}, 1);
        float[] nc = NnOps.clipGradNorm_(List.of(a, b), 1.0).toFloatArray();
        assertThat(nc[0]).isEqualTo(5f);
        assertThat((double) nc[1]).isCloseTo(1 / (5 + 1e-6), org.assertj.core.data.Offset.offset(1e-7));
        assertThat((double) a.toFloatArray()[0]).isCloseTo(3 / (5 + 1e-6), org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) b.toFloatArray()[0]).isCloseTo(4 / (5 + 1e-6), org.assertj.core.data.Offset.offset(1e-6));
        float[] kept = NnOps.clipGradNorm_(List.of(a, b), 10.0).toFloatArray();
        assertThat(kept[1]).isEqualTo(1f); // under the limit: multiplied by exactly 1
        Tensor c = Tensor.of(new float[] {Float.NaN}, 1);
        assertThat(NnOps.clipGradNorm_(List.of(c), 1.0).toFloatArray()[1]).isNaN();
    }

    @Test
    void multiTensorAdamIsNotOfferedOnTheCpu() {
        Tensor p = Tensor.randn(new Random4j(1), 3);
        assertThat(NnOps.adamStepMultiOffered(List.of(p), List.of(p), List.of(p), List.of(p))).isFalse();
    }
}
