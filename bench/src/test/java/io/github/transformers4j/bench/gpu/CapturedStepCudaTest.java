package io.github.transformers4j.bench.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.cuda.CudaBackend;
import io.github.transformers4j.cuda.Driver;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.optim.Adam;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.Optimizer;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.GraphedStep;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The captured training step on the GPU: multi-tensor AdamW against the per-parameter update, a captured step against
 * the eager one (fp32, with and without dropout; bf16), and a replay that allocates nothing and never waits.
 */
@Tag("cuda")
class CapturedStepCudaTest {
    static final Device GPU = Device.cuda(0);

    private static Tensor leaf(Tensor t) {
        return Memory.unscoped(() -> t.to(GPU)).keep();
    }

    @Test
    void multiTensorAdamEqualsThePerParameterUpdateBitForBit() {
        Random4j rng = new Random4j(3);
        int count = 61; // two launches of up to 48 tensors
        List<Tensor> p1 = new ArrayList<>(), p2 = new ArrayList<>(), g = new ArrayList<>(), m1 = new ArrayList<>(), v1 = new ArrayList<>(),
                m2 = new ArrayList<>(), v2 = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = 1 + (i * 7919) % 5000;
            Tensor p = Tensor.randn(rng, n);
            p1.add(leaf(p));
            p2.add(leaf(p));
            g.add(leaf(Tensor.randn(rng, n)));
            m1.add(leaf(Tensor.full(0, DType.F32, Device.CPU, n)));
            v1.add(leaf(Tensor.full(0, DType.F32, Device.CPU, n)));
            m2.add(leaf(Tensor.full(0, DType.F32, Device.CPU, n)));
            v2.add(leaf(Tensor.full(0, DType.F32, Device.CPU, n)));
        }
        // autocast copies of some parameters: the multi-tensor pass refreshes them
        for (int i = 0; i < count; i += 3) Autocast.weightCopy(p2.get(i), DType.BF16);
        Tensor hyper = leaf(Tensor.full(0, DType.F64, Device.CPU, 8 * count));
        try (var off = Grad.disabled()) {
            for (int step = 1; step <= 3; step++) {
                double lr = 1e-3 * step;
                double[] scalars = new double[8 * count];
                for (int i = 0; i < count; i++) {
                    boolean decoupled = i % 2 == 0;
                    double wd = i % 5 == 0 ? 0 : 0.05;
                    NnOps.adamStep(p1.get(i), g.get(i), m1.get(i), v1.get(i), lr, 0.9, 0.95, 1e-8, wd, step, decoupled);
                    NnOps.adamScalars(scalars, i, lr, 0.9, 0.95, 1e-8, wd, step, decoupled);
                }
                hyper.copyFrom(scalars);
                assertThat(NnOps.adamStepMulti(p2, g, m2, v2, hyper)).isTrue();
            }
        }
        for (int i = 0; i < count; i++) {
            assertThat(p2.get(i).toFloatArray()).as("p %d", i).containsExactly(p1.get(i).toFloatArray());
            assertThat(m2.get(i).toFloatArray()).as("m %d", i).containsExactly(m1.get(i).toFloatArray());
            assertThat(v2.get(i).toFloatArray()).as("v %d", i).containsExactly(v1.get(i).toFloatArray());
            if (i % 3 == 0) {
                Tensor low = Autocast.weightCopy(p2.get(i), DType.BF16); // fresh: no recast happens here
                assertThat(low.toFloatArray()).as("bf16 copy %d", i).containsExactly(p1.get(i).to(DType.BF16).toFloatArray());
            }
        }
    }

    @Test
    void gradientClippingOnTheGpuMatchesTheCpu() {
        Random4j rng = new Random4j(9);
        for (double scale : new double[] {0.01, 10}) { // below and above the limit
            List<Tensor> cpu = new ArrayList<>(), gpu = new ArrayList<>();
            for (int i = 0; i < 70; i++) {
                Tensor g = Tensor.randn(rng, 1 + (i * 104729) % 3000).mul(scale);
                cpu.add(g);
                gpu.add(leaf(g));
            }
            float[] ref = NnOps.clipGradNorm_(cpu, 1.0).toFloatArray(), got = NnOps.clipGradNorm_(gpu, 1.0).toFloatArray();
            System.out.printf("clip, scale %s: norm %.6f (cpu %.6f), coef %.6f (cpu %.6f)%n", scale, got[0], ref[0], got[1], ref[1]);
            assertThat((double) got[0]).isCloseTo(ref[0], org.assertj.core.data.Offset.offset(1e-5 * ref[0]));
            assertThat((double) got[1]).isCloseTo(ref[1], org.assertj.core.data.Offset.offset(1e-5 * ref[1]));
            for (int i = 0; i < cpu.size(); i++) {
                float[] a = gpu.get(i).toFloatArray(), b = cpu.get(i).toFloatArray();
                for (int k = 0; k < a.length; k++) assertThat(a[k]).isCloseTo(b[k], org.assertj.core.data.Offset.offset(1e-5f * Math.abs(b[k]) + 1e-7f));
            }
        }
    }

    /** A classifier, its AdamW, fixed data and a device-side loss sum: one training step per run(). */
    private record Setup(ImageClassifier model, Optimizer opt, Runnable step, Tensor lossSum) {
        static Setup of(String preset, int batch, DType autocast) {
            ImageClassifier model = ModelZoo.preset(preset).create(32, 3, 10, new Random4j(0));
            model.to(GPU);
            model.train();
            Optimizer opt = new AdamW(model, new Adam.Options(1e-3, 0.9, 0.95, 1e-8, 0.05, false));
            Tensor x = leaf(Tensor.randn(new Random4j(1), batch, 3, 32, 32));
            Tensor y = leaf(Tensor.randint(new Random4j(2), 0, 10, batch));
            Tensor lossSum = leaf(Tensor.full(0, DType.F32, Device.CPU, 1));
            Runnable step = () -> {
                try (var s = Memory.scope()) {
                    opt.zeroGrad();
                    Tensor loss;
                    try (var ac = Autocast.enable(autocast)) {
                        loss = F.crossEntropy(model.forward(x), y);
                    }
                    loss.backward();
                    opt.step();
                    try (var off = Grad.disabled()) {
                        lossSum.add_(loss.detach().reshape(1), 1.0);
                    }
                }
            };
            return new Setup(model, opt, step, lossSum);
        }
    }

    private static double maxRelDiff(ImageClassifier a, ImageClassifier b) {
        double worst = 0;
        List<Parameter> pa = a.parameters(), pb = b.parameters();
        for (int i = 0; i < pa.size(); i++) {
            float[] x = pa.get(i).data().toFloatArray(), y = pb.get(i).data().toFloatArray();
            double d = 0, n = 0;
            for (int k = 0; k < x.length; k++) {
                assertThat(Float.isFinite(x[k])).isTrue();
                d = Math.max(d, Math.abs(x[k] - y[k]));
                n = Math.max(n, Math.abs(y[k]));
            }
            worst = Math.max(worst, d / Math.max(n, 1e-12));
        }
        return worst;
    }

    private static void compareCapturedWithEager(String preset, int batch, DType autocast, double tolerance) {
        Random4j.manualSeed(5);
        Setup eager = Setup.of(preset, batch, autocast);
        for (int i = 0; i < 6; i++) eager.step().run();
        Random4j.manualSeed(5);
        Setup captured = Setup.of(preset, batch, autocast);
        try (GraphedStep graphed = new GraphedStep(GPU, captured.step(), 2, preset)) {
            for (int i = 0; i < 6; i++) graphed.run();
            assertThat(graphed.captured()).as("captured: %s", graphed.reason()).isTrue();
            double loss = eager.lossSum().item(), lossCaptured = captured.lossSum().item();
            double rel = maxRelDiff(captured.model(), eager.model());
            System.out.printf("captured vs eager, %s %s: loss sum %.7f vs %.7f, parameters max rel. diff %.2e%n", preset,
                    autocast == null ? "fp32" : "bf16", lossCaptured, loss, rel);
            assertThat(Math.abs(lossCaptured - loss)).isLessThanOrEqualTo(tolerance * Math.abs(loss));
            assertThat(rel).isLessThanOrEqualTo(tolerance);
        }
    }

    @Test
    void aCapturedFp32StepEqualsTheEagerStep() {
        compareCapturedWithEager("vit-mini-p4", 32, null, 1e-6);
    }

    @Test
    void aCapturedStepWithDropoutDrawsTheEagerMasks() {
        compareCapturedWithEager("vit-sincos-p8", 16, null, 1e-6);
    }

    @Test
    void aCapturedBf16StepEqualsTheEagerBf16Step() {
        compareCapturedWithEager("vit-tiny-p4", 32, DType.BF16, 1e-6);
    }

    @Test
    void aCapturedBf16StepWithAttentionDropoutDrawsTheEagerMasks() {
        System.setProperty("t4j.cuda.flashAttention", "true"); // on, whatever the environment says
        try {
            compareCapturedWithEager("vit-sincos-p8", 16, DType.BF16, 1e-6); // head dim 32: flash attention with dropout
        } finally {
            System.clearProperty("t4j.cuda.flashAttention");
        }
    }

    @Test
    void replaysAllocateNothingAndNeverWait() {
        Setup s = Setup.of("vit-tiny-p4", 64, DType.BF16);
        CudaBackend backend = (CudaBackend) Backends.of(GPU);
        try (GraphedStep graphed = new GraphedStep(GPU, s.step(), 2, "vit-tiny-p4")) {
            for (int i = 0; i < 4; i++) graphed.run();
            assertThat(graphed.captured()).as(graphed.reason()).isTrue();
            backend.synchronize();
            var before = backend.gpu().allocator().stats();
            long syncs = Driver.synchronizations();
            for (int i = 0; i < 20; i++) graphed.run();
            long waits = Driver.synchronizations() - syncs;
            var after = backend.gpu().allocator().stats();
            backend.synchronize();
            System.out.printf("20 replays: %d allocator requests, %d cuMemAlloc, %d host synchronisations%n",
                    after.requests() - before.requests(), after.deviceMallocs() - before.deviceMallocs(), waits);
            assertThat(after.requests() - before.requests()).isZero();
            assertThat(after.deviceMallocs() - before.deviceMallocs()).isZero();
            assertThat(waits).isZero();
            assertThat(Double.isFinite(s.lossSum().item())).isTrue();
        }
    }
}
