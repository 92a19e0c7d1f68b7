package io.github.transformers4j.bench.gpu;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.seq2seq.Seq2SeqConfig;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Before timing anything: one training forward + backward of each benchmark model on the CPU and on the GPU, from
 * the same initialisation, data and dropout seeds (the models run the fused GPU paths on one side and the composed CPU
 * paths on the other), comparing the loss and every parameter gradient. Small batches, so the CPU side is quick.
 */
final class ParityCheck {
    private ParityCheck() {}

    /** Worst gradient error, relative to the largest gradient magnitude of that parameter. */
    record Result(String model, double lossCpu, double lossGpu, double worstGrad, String worstParam) {
        boolean ok() {
            return Math.abs(lossCpu - lossGpu) <= 1e-4 * Math.max(1, Math.abs(lossCpu)) && worstGrad < 2e-3;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "parity %-14s loss cpu %.6f gpu %.6f, worst gradient error %.2e (%s) %s",
                    model, lossCpu, lossGpu, worstGrad, worstParam, ok() ? "OK" : "MISMATCH");
        }
    }

    static Result run(String name, Function<Random4j, Module> make, Function<Module[], Tensor[]> lossesOn, Device gpu) {
        Module cpu = make.apply(new Random4j(0)), dev = make.apply(new Random4j(0));
        dev.to(gpu);
        cpu.train();
        dev.train();
        Tensor[] losses = lossesOn.apply(new Module[] {cpu, dev});
        losses[0].backward();
        losses[1].backward();
        Map<String, Parameter> pc = cpu.namedParameters(), pg = dev.namedParameters();
        // errors relative to the parameter's largest gradient, but at least 1e-3 of the model's largest: gradients
        // that are zero in exact arithmetic (e.g. a key bias, which softmax cancels) are rounding noise on both sides
        double global = 0;
        for (Parameter p : pc.values()) {
            if (p.grad() == null) continue;
            for (float v : p.grad().toFloatArray()) global = Math.max(global, Math.abs(v));
        }
        double worst = 0;
        String where = "-";
        for (var e : pc.entrySet()) {
            Tensor gc = e.getValue().grad(), gg = pg.get(e.getKey()).grad();
            if (gc == null && gg == null) continue;
            if (gc == null || gg == null) return new Result(name, Double.NaN, Double.NaN, Double.POSITIVE_INFINITY, e.getKey() + " grad missing on one side");
            float[] a = gc.toFloatArray(), b = gg.toFloatArray();
            double scale = Math.max(1e-12, 1e-3 * global), diff = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                diff = Math.max(diff, Float.isFinite(b[i]) ? Math.abs(a[i] - b[i]) : Double.POSITIVE_INFINITY);
            }
            double err = diff / scale;
            if (err > worst) {
                worst = err;
                where = e.getKey();
            }
        }
        return new Result(name, losses[0].item(), losses[1].item(), worst, where);
    }

    static void runAll(Device gpu) {
        System.out.println(run("vit-tiny-p4", rng -> ModelZoo.preset("vit-tiny-p4").create(32, 3, 10, rng), m -> {
            Tensor x = Tensor.randn(new Random4j(1), 8, 3, 32, 32), y = Tensor.randint(new Random4j(2), 0, 10, 8);
            return new Tensor[] {F.crossEntropy(((ImageClassifier) m[0]).forward(x), y),
                    F.crossEntropy(((ImageClassifier) m[1]).forward(x.to(gpu)), y.to(gpu))};
        }, gpu));
        System.out.println(run("vit-bert12-p4", rng -> ModelZoo.preset("vit-bert12-p4").create(32, 3, 10, rng), m -> {
            Tensor x = Tensor.randn(new Random4j(1), 4, 3, 32, 32), y = Tensor.randint(new Random4j(2), 0, 10, 4);
            return new Tensor[] {F.crossEntropy(((ImageClassifier) m[0]).forward(x), y),
                    F.crossEntropy(((ImageClassifier) m[1]).forward(x.to(gpu)), y.to(gpu))};
        }, gpu));
        System.out.println(run("summarizer-4x512", rng -> new Seq2SeqTransformer(Seq2SeqConfig.summarizer4x512(32128, 0, 1), rng), m -> {
            Tensor src = Tensor.randint(new Random4j(1), 1, 32128, 2, 48), tin = Tensor.randint(new Random4j(2), 1, 32128, 2, 12),
                    lab = Tensor.randint(new Random4j(3), 1, 32128, 2, 12);
            // padding at the end of the second source: exercises the key-padding mask
            src = src.mul(Tensor.arange(48).lt(40).to(src.dtype()).view(1, 48).add(Tensor.ofLongs(new long[] {1, 0}, 2, 1)).clamp(0, 1));
            Seq2SeqTransformer c = (Seq2SeqTransformer) m[0], g = (Seq2SeqTransformer) m[1];
            return new Tensor[] {Seq2SeqTransformer.loss(c.forward(src, tin), lab),
                    Seq2SeqTransformer.loss(g.forward(src.to(gpu), tin.to(gpu)), lab.to(gpu))};
        }, gpu));
    }
}
