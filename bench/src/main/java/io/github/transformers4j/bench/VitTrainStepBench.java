package io.github.transformers4j.bench;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.ParamGroups;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.cpu.Parallel;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * Training steps of a model preset on random images (forward, cross-entropy, backward, AdamW), timed after
 * warm-up: the number behind "images/s" of {@code t4j train}, without data loading.
 * {@code java ... VitTrainStepBench [model] [imageSize] [channels] [batch] [warmup] [steps] [--profile]}; with
 * {@code --profile} the timed steps run under an {@link OpProfiler} and its table follows (the profiler's own cost,
 * a proxy call per op, is in the step times then).
 */
public final class VitTrainStepBench {
    private VitTrainStepBench() {}

    public static void main(String[] argv) {
        boolean profile = Arrays.asList(argv).contains("--profile");
        String[] args = Arrays.stream(argv).filter(a -> !a.equals("--profile")).toArray(String[]::new);
        String model = args.length > 0 ? args[0] : "vit-mini-p4";
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 28;
        int channels = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        int steps = args.length > 5 ? Integer.parseInt(args[5]) : 20;
        run(model, size, channels, batch, warmup, steps, System.out, profile);
    }

    public static double run(String name, int size, int channels, int batch, int warmup, int steps, PrintStream out) {
        return run(name, size, channels, batch, warmup, steps, out, false);
    }

    public static double run(String name, int size, int channels, int batch, int warmup, int steps, PrintStream out, boolean profile) {
        Random4j rng = new Random4j(0);
        ImageClassifier model = ModelZoo.create(name, size, channels, 10, rng);
        var opt = new AdamW(ParamGroups.weightDecaySplit(model, 0.05), AdamW.options(1e-3).weightDecay(0.05));
        Tensor x = Tensor.randn(rng, batch, channels, size, size).keep();
        Tensor y = Tensor.randint(rng, 0, 10, batch).keep();
        double[] ms = new double[steps];
        OpProfiler profiler = null;
        for (int i = 0; i < warmup + steps; i++) {
            if (profile && i == warmup) profiler = OpProfiler.install(Device.CPU);
            long t0 = System.nanoTime();
            try (var scope = Memory.scope()) {
                opt.zeroGrad();
                Tensor loss = F.crossEntropy(model.forward(x), y);
                loss.backward();
                opt.step();
                loss.item();
            }
            if (i >= warmup) ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
        }
        if (profiler != null) profiler.close();
        double mean = Arrays.stream(ms).average().orElse(0);
        Arrays.sort(ms);
        double median = ms[steps / 2];
        double ips = batch / (median / 1000);
        out.printf(Locale.ROOT, "%s %dx%dx%d batch %d, %d threads: median step %.1f ms (best %.1f, worst %.1f), %.0f images/s%n",
                name, channels, size, size, batch, Parallel.threads(), median, ms[0], ms[steps - 1], ips);
        if (profiler != null) profiler.print(out, steps, mean);
        return ips;
    }
}
