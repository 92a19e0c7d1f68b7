package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A small transformer block trained with AdamW, built from tensor ops only (embedding, layerNorm, matmul, causal
 * softmax attention, GELU MLP, cross-entropy as -logSoftmax gathered at the targets): the same steps on the CPU and
 * on CUDA agree, and CUDA steps inside memory scopes stop calling cuMemAlloc after warm-up.
 */
@Tag("cuda")
class CudaTrainingTest {
    static final Device GPU = Device.cuda(0);

    /** Parameters by name, created on the CPU from fixed seeds, then moved. */
    static final class Model {
        final int vocab, dim, hidden;
        final Map<String, Tensor> p = new LinkedHashMap<>();
        final Map<String, Tensor[]> adam = new LinkedHashMap<>();
        int step;

        Model(int vocab, int dim, int hidden, Device device) {
            this.vocab = vocab;
            this.dim = dim;
            this.hidden = hidden;
            long seed = 100;
            param("emb", device, seed++, 1.0, 0, vocab, dim);
            param("ln1.w", device, seed++, 0.1, 1, dim);
            param("ln1.b", device, seed++, 0.1, 0, dim);
            for (String n : List.of("wq", "wk", "wv", "wo")) param(n, device, seed++, 1 / Math.sqrt(dim), 0, dim, dim);
            param("ln2.w", device, seed++, 0.1, 1, dim);
            param("ln2.b", device, seed++, 0.1, 0, dim);
            param("w1", device, seed++, 1 / Math.sqrt(dim), 0, dim, hidden);
            param("b1", device, seed++, 0.1, 0, hidden);
            param("w2", device, seed++, 1 / Math.sqrt(hidden), 0, hidden, dim);
            param("b2", device, seed++, 0.1, 0, dim);
            param("out", device, seed++, 1 / Math.sqrt(dim), 0, dim, vocab);
            for (var e : p.entrySet()) {
                Tensor t = e.getValue();
                adam.put(e.getKey(), new Tensor[] {Tensor.full(0, DType.F32, device, t.shape()), Tensor.full(0, DType.F32, device, t.shape())});
            }
        }

        /** N(shift, scale^2) values drawn on the CPU, moved to device as a leaf. */
        private void param(String name, Device device, long seed, double scale, double shift, int... shape) {
            p.put(name, Tensor.randn(new Random4j(seed), shape).mul(scale).add(shift).to(device).requiresGrad(true));
        }

        Tensor loss(Tensor ids, Tensor targets) {
            int b = ids.size(0), t = ids.size(1);
            Tensor x = NnOps.embedding(p.get("emb"), ids, -1);                       // [B, T, C]
            Tensor h = NnOps.layerNorm(x, 1, p.get("ln1.w"), p.get("ln1.b"), 1e-5);
            Tensor q = h.matmul(p.get("wq")), k = h.matmul(p.get("wk")), v = h.matmul(p.get("wv"));
            // causal: query i sees keys j <= i (the mask is true above the diagonal)
            Tensor upper = Tensor.arange(t).unsqueeze(0).to(x.device()).gt(Tensor.arange(t).unsqueeze(1).to(x.device()));
            Tensor scores = q.matmul(k.mT()).mul(1 / Math.sqrt(dim)).maskedFill(upper, Double.NEGATIVE_INFINITY);
            Tensor att = scores.softmax(-1);                                          // [B, T, T]
            x = x.add(att.matmul(v).matmul(p.get("wo")));
            Tensor h2 = NnOps.layerNorm(x, 1, p.get("ln2.w"), p.get("ln2.b"), 1e-5);
            x = x.add(h2.matmul(p.get("w1")).add(p.get("b1")).gelu().matmul(p.get("w2")).add(p.get("b2")));
            Tensor logits = x.matmul(p.get("out")).reshape(b * t, vocab);
            Tensor logp = logits.logSoftmax(-1);
            return logp.gather(1, targets.reshape(b * t, 1)).mean().neg();
        }

        /** One step: loss, backward, AdamW on every parameter; returns the loss. */
        double step(Tensor ids, Tensor targets) {
            Tensor loss = loss(ids, targets);
            loss.backward();
            step++;
            try (var g = Grad.disabled()) {
                for (var e : p.entrySet()) {
                    Tensor w = e.getValue(), grad = w.grad();
                    Tensor[] mv = adam.get(e.getKey());
                    NnOps.adamStep(w, grad, mv[0], mv[1], 3e-3, 0.9, 0.999, 1e-8, 0.01, step, true);
                    w.clearGrad();
                }
            }
            return loss.item();
        }
    }

    static Tensor[] batch(long seed, int b, int t, int vocab) {
        Tensor ids = Tensor.randint(new Random4j(seed), 0, vocab, b, t);
        Tensor targets = Tensor.randint(new Random4j(seed + 1), 0, vocab, b, t);
        return new Tensor[] {ids, targets};
    }

    static double relNorm(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - y[i]) * (x[i] - y[i]);
            den += y[i] * y[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    @Test
    void trainingStepsOnCudaMatchTheCpu() {
        GpuTests.device();
        Model cpu = new Model(97, 64, 256, Device.CPU), gpu = new Model(97, 64, 256, GPU);
        List<String> report = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            Tensor[] bt = batch(500 + s, 4, 16, 97);
            double lc = cpu.step(bt[0], bt[1]);
            double lg = gpu.step(bt[0].to(GPU), bt[1].to(GPU));
            report.add(String.format("step %d loss cpu %.7f cuda %.7f", s + 1, lc, lg));
            assertThat(Math.abs(lg - lc) / Math.abs(lc)).as("loss of step %d: cuda %s cpu %s", s + 1, lg, lc).isLessThan(1e-4);
        }
        for (String name : cpu.p.keySet()) {
            double rel = relNorm(gpu.p.get(name), cpu.p.get(name));
            report.add(String.format("%-6s ||w_cuda - w_cpu|| / ||w_cpu|| = %.2e", name, rel));
            assertThat(rel).as("weights %s after 3 AdamW steps", name).isLessThan(1e-4);
        }
        report.forEach(System.out::println);
    }

    @Test
    void stepsInsideMemoryScopesStopAllocatingDeviceMemory() {
        CudaBackend backend = (CudaBackend) Backends.of(GPU);
        Model m = new Model(211, 128, 512, GPU);
        Tensor[] bt = batch(900, 8, 32, 211);
        Tensor ids = bt[0].to(GPU), targets = bt[1].to(GPU);
        double first = 0, last = 0;
        for (int s = 0; s < 3; s++) {
            try (var scope = Memory.scope()) {
                double l = m.step(ids, targets);
                if (s == 0) first = l;
            }
        }
        var before = backend.gpu().allocator().stats();
        long launches = CudaFunction.launches(), t0 = System.nanoTime();
        for (int s = 0; s < 20; s++) {
            try (var scope = Memory.scope()) {
                last = m.step(ids, targets);
            }
        }
        double ms = (System.nanoTime() - t0) / 1e6 / 20;
        var after = backend.gpu().allocator().stats();
        System.out.println("allocator after warm-up: " + before + "\nallocator after 20 more steps: " + after);
        System.out.printf("training step (B=8, T=32, C=128, vocab 211, eager, loss.item() each step): %.2f ms, %d kernel launches%n",
                ms, (CudaFunction.launches() - launches) / 20);
        assertThat(after.deviceMallocs()).as("cuMemAlloc calls during 20 steps after warm-up").isEqualTo(before.deviceMallocs());
        assertThat(after.bytesInUse()).as("bytes in use do not grow").isLessThanOrEqualTo(before.bytesInUse());
        assertThat(last).as("the loss falls on a repeated batch").isLessThan(first);
    }
}
