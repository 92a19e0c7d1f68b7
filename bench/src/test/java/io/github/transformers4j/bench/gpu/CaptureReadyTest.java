package io.github.transformers4j.bench.gpu;

import static org.assertj.core.api.Assertions.assertThatCode;

import io.github.transformers4j.tensor.Capture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * On the CPU, without a GPU: the training steps the GPU harness captures make no host transfer, so a capture can hold
 * them. The step runs once eagerly (optimizer state, caches), then once as a capture would record it, where every
 * host transfer throws ({@link Capture#checkHost}).
 */
class CaptureReadyTest {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"vit-mini-p4, fp32", "vit-mini-p4, bf16", "vit-sincos-p8, bf16", "vit-bert12-p4, bf16"})
    void theClassifierStepMakesNoHostTransfer(String preset, String precision) {
        DType ac = precision.equals("bf16") ? DType.BF16 : null;
        Workload w = JavaWorkloads.classifier("t", "t", preset, 2, Device.CPU, ac);
        dryRun(w);
    }

    @org.junit.jupiter.api.Test
    void theSeq2SeqStepMakesNoHostTransfer() {
        var config = new io.github.transformers4j.models.seq2seq.Seq2SeqConfig(300, 32, 2, 2, 4, 64, 0.1, 64, 0, 1);
        dryRun(JavaWorkloads.seq2seq(config, 2, 12, 6, Device.CPU, DType.BF16));
    }

    private static void dryRun(Workload w) {
        w.step().run();
        Capture.begin();
        try {
            assertThatCode(() -> w.step().run()).doesNotThrowAnyException();
        } finally {
            Capture.end();
            w.cleanup().run();
        }
    }
}
