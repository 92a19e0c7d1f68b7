package io.github.transformers4j.cli;

import io.github.transformers4j.bench.CpuMatmulBench;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Micro-benchmarks. cpu-matmul: float32 products on the CPU (N x N x N, or --shape MxKxN), GFLOP/s, "
                + "beside numpy's in the same run.")
final class BenchCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "WHAT", description = "cpu-matmul")
    String what;

    @Option(names = "--size", paramLabel = "N", description = "matrix size (default: ${DEFAULT-VALUE})")
    int size = 1024;

    @Option(names = "--shape", paramLabel = "MxKxN", description = "a rectangular product (M x K) @ (K x N) instead, e.g. 8320x256x768")
    String shape;

    @Option(names = "--transpose-a", description = "A stored K x M and multiplied as its transpose, on both sides (a weight "
            + "gradient's x^T @ g: M = out features, K = tokens)")
    boolean transposeA;

    @Option(names = "--transpose-b", description = "B stored N x K and multiplied as its transpose, on both sides (a linear "
            + "layer's x @ W^T: N = out features)")
    boolean transposeB;

    @Option(names = "--warmup", paramLabel = "N", description = "untimed runs first (default: ${DEFAULT-VALUE})")
    int warmup = 3;

    @Option(names = "--iters", paramLabel = "N", description = "timed runs (default: ${DEFAULT-VALUE})")
    int iters = 10;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() {
        threads.apply();
        if (!what.equals("cpu-matmul")) throw new IllegalArgumentException("unknown benchmark '" + what + "'; known: cpu-matmul");
        if (size < 1 || warmup < 0 || iters < 1)
            throw new IllegalArgumentException("--size and --iters must be >= 1 and --warmup >= 0");
        int[] mkn = shape == null ? new int[] {size, size, size} : CpuMatmulBench.parseShape(shape);
        if (transposeA && transposeB) throw new IllegalArgumentException("--transpose-a and --transpose-b: one layout at a time");
        CpuMatmulBench.Layout layout = transposeA ? CpuMatmulBench.Layout.TRANSPOSED_A
                : transposeB ? CpuMatmulBench.Layout.TRANSPOSED_B : CpuMatmulBench.Layout.NN;
        CpuMatmulBench.run(mkn[0], mkn[1], mkn[2], layout, warmup, iters, System.out);
        return 0;
    }
}
