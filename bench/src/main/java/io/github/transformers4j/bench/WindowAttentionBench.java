package io.github.transformers4j.bench;

import io.github.transformers4j.models.attention.WindowAttention;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.cpu.Parallel;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * How one encoder layer's training step (forward + backward) grows with the image size for full attention, windowed
 * attention by a mask (still O(N^2 D)), and the blocked windowed kernel (O(N K^2 D)). Patch 4, so an S x S image
 * has N = (S / 4)^2 patch tokens plus a class token; median of the timed runs after warm-up, fresh random inputs.
 *
 * <pre>java ... io.github.transformers4j.bench.WindowAttentionBench [--sizes 32,64,96,128] [--dim 128] [--heads 4]
 *     [--window 5] [--batch 8] [--warmup 1] [--iters 3]</pre>
 */
public final class WindowAttentionBench {
    private WindowAttentionBench() {}

    public static void main(String[] args) {
        int[] sizes = {32, 64, 96, 128};
        int dim = 128, heads = 4, window = 5, batch = 8, warmup = 1, iters = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sizes" -> sizes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--dim" -> dim = Integer.parseInt(args[++i]);
                case "--heads" -> heads = Integer.parseInt(args[++i]);
                case "--window" -> window = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("window-attention: unknown argument '" + args[i] + "'");
            }
        }
        run(sizes, dim, heads, window, batch, warmup, iters, System.out);
    }

    public static void run(int[] sizes, int dim, int heads, int window, int batch, int warmup, int iters, PrintStream out) {
        out.printf(Locale.ROOT, "window-attention: one post-norm encoder layer (d %d, %d heads, FFN %d), forward + backward, batch %d, "
                + "patch 4, window %dx%d, %d threads, median of %d after %d (and at least 0.5 s of) warm-up runs%n", dim, heads, 4 * dim, batch, window, window,
                Parallel.threads(), iters, warmup);
        out.println("| image | patches N | full attention (ms) | windowed, mask (ms) | windowed, blocked (ms) | full / blocked | attention FLOPs full / blocked |");
        out.println("|---|---|---|---|---|---|---|");
        var cfg = TransformerLayerConfig.of(dim, heads).withDimFeedforward(4 * dim).withDropout(0).withActivation(Activation.GELU)
                .withBatchFirst(true);
        // JIT warm-up of all three paths before the first timed size, so that the first row is not the compiler's
        var w0 = new WindowAttention(sizes[0] / 4, sizes[0] / 4, window, 1);
        for (var impl : WindowedEncoderLayer.Impl.values()) {
            var l = new WindowedEncoderLayer(cfg, w0, impl, new Random4j(0));
            time(x -> l.forward(x), batch, w0.length(), dim, 3, 1);
        }
        var f0 = new TransformerEncoderLayer(cfg, new Random4j(0));
        time(x -> f0.forward(x), batch, w0.length(), dim, 3, 1);
        for (int s : sizes) {
            int g = s / 4;
            var w = new WindowAttention(g, g, window, 1);
            var full = new TransformerEncoderLayer(cfg, new Random4j(0));
            var masked = new WindowedEncoderLayer(cfg, w, WindowedEncoderLayer.Impl.MASK, new Random4j(0));
            var blocked = new WindowedEncoderLayer(cfg, w, WindowedEncoderLayer.Impl.BLOCKED, new Random4j(0));
            double tf = time(x -> full.forward(x), batch, w.length(), dim, warmup, iters);
            double tm = time(x -> masked.forward(x), batch, w.length(), dim, warmup, iters);
            double tb = time(x -> blocked.forward(x), batch, w.length(), dim, warmup, iters);
            int e = dim / heads;
            out.printf(Locale.ROOT, "| %dx%d | %d | %.1f | %.1f | %.1f | %.2f | %.1f |%n", s, s, g * g, tf * 1e3, tm * 1e3, tb * 1e3,
                    tf / tb, (double) w.attentionFlops(e, false) / w.attentionFlops(e, true));
        }
    }

    /** Median seconds of {@code iters} runs after at least {@code warmup} runs and half a second of warm-up (JIT). */
    private static double time(java.util.function.Function<Tensor, Tensor> layer, int batch, int len, int dim, int warmup, int iters) {
        double[] t = new double[iters];
        Random4j rng = new Random4j(1);
        long warmStart = System.nanoTime();
        for (int i = 0; i < warmup || System.nanoTime() - warmStart < 500_000_000L; i++) step(layer, rng, batch, len, dim);
        for (int i = 0; i < iters; i++) t[i] = step(layer, rng, batch, len, dim);
        Arrays.sort(t);
        return t[t.length / 2];
    }

    private static double step(java.util.function.Function<Tensor, Tensor> layer, Random4j rng, int batch, int len, int dim) {
        try (var scope = Memory.scope()) {
            Tensor x = Tensor.randn(rng, batch, len, dim).requiresGrad(true);
            long t0 = System.nanoTime();
            layer.apply(x).square().mean().backward();
            return (System.nanoTime() - t0) / 1e9;
        }
    }
}
