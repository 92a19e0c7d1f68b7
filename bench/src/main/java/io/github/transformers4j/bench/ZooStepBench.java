package io.github.transformers4j.bench;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.ParamGroups;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.cpu.Parallel;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Time of one training step (forward, cross-entropy, backward, AdamW) of every model preset on Fashion-MNIST-shaped
 * batches (1 x 28 x 28, 10 classes) with fresh random inputs; median after warm-up, and the epoch estimate for
 * 54,000 training images (Fashion-MNIST's 60,000 less the default 10% validation split).
 *
 * <pre>java ... io.github.transformers4j.bench.ZooStepBench [--batch 32] [--warmup 1] [--iters 3] [--models a,b]</pre>
 */
public final class ZooStepBench {
    private ZooStepBench() {}

    public static void main(String[] args) {
        int batch = 32, warmup = 1, iters = 3;
        List<String> models = ModelZoo.names(ModelZoo.Task.IMAGE_CLASSIFICATION);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                case "--models" -> models = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("zoo-steps: unknown argument '" + args[i] + "'");
            }
        }
        run(models, batch, warmup, iters, System.out);
    }

    public static void run(List<String> models, int batch, int warmup, int iters, PrintStream out) {
        out.printf(Locale.ROOT, "zoo-steps: training step (forward + backward + AdamW), batch %d of 1x28x28, %d threads, median of %d after %d warm-up%n",
                batch, Parallel.threads(), iters, warmup);
        out.println("| preset | parameters | step (ms) | images/s | epoch estimate (54,000 images) |");
        out.println("|---|---|---|---|---|");
        for (String name : models) {
            ImageClassifier m = ModelZoo.create(name, 28, 1, 10, new Random4j(0));
            var opt = new AdamW(ParamGroups.weightDecaySplit(m, 0.05), AdamW.options(1e-3).weightDecay(0.05));
            Random4j rng = new Random4j(1);
            double[] t = new double[iters];
            for (int i = 0; i < warmup + iters; i++) {
                try (var scope = Memory.scope()) {
                    Tensor x = Tensor.randn(rng, batch, 1, 28, 28), y = Tensor.randint(rng, 0, 10, batch);
                    long t0 = System.nanoTime();
                    opt.zeroGrad();
                    F.crossEntropy(m.forward(x), y).backward();
                    opt.step();
                    if (i >= warmup) t[i - warmup] = (System.nanoTime() - t0) / 1e9;
                }
            }
            Arrays.sort(t);
            double step = t[t.length / 2], epoch = Math.ceil(54_000.0 / batch) * step;
            out.printf(Locale.ROOT, "| %s | %,d | %.0f | %.0f | %s |%n", name, m.numParameters(), step * 1e3, batch / step, duration(epoch));
        }
    }

    static String duration(double s) {
        return s < 3600 ? String.format(Locale.ROOT, "%.0f min", s / 60) : String.format(Locale.ROOT, "%.1f h", s / 3600);
    }
}
