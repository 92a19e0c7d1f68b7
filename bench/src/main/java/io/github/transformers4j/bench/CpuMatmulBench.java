package io.github.transformers4j.bench;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.github.transformers4j.tensor.cpu.Gemm;
import io.github.transformers4j.tensor.cpu.Parallel;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * {@code t4j bench cpu-matmul}: times a float32 product (M x K) @ (K x N) through {@link Gemm#sgemm} (median after
 * warm-up, fresh random inputs), checks it against a float64 product, and, where {@code python3} with numpy is
 * on the PATH, times numpy's {@code a @ b} of the same shape in the same run for a side-by-side ratio, naming the
 * OpenBLAS kernel numpy ran. The reference is numpy at its best on the same cores: its run gets the same thread count,
 * and {@code OPENBLAS_CORETYPE} / {@code OPENBLAS_L2_SIZE} are taken out of its environment (some machines set them,
 * which forces an older kernel or smaller blocks and slows it; the report names what was taken out).
 */
public final class CpuMatmulBench {
    /** Least warm-up time: on two busy cores the JIT takes a second or two to compile the Vector API kernels. */
    private static final long WARMUP_NANOS = 3_000_000_000L;

    private CpuMatmulBench() {}

    /** Seconds per product: median (upper median for an even count), fastest and slowest. */
    public record Timing(double medianS, double minS, double maxS) {
        static Timing of(double[] seconds) {
            double[] s = seconds.clone();
            Arrays.sort(s);
            return new Timing(s[s.length / 2], s[0], s[s.length - 1]);
        }
    }

    /** numpy's timing and the BLAS it ran (a phrase), or why there is none. */
    public record Numpy(Optional<Timing> timing, String version, String blas, String unavailable) {}

    /** How the operands are stored; numpy gets the same layout (a transposed view: BLAS takes the flag, no copy). */
    public enum Layout {
        /** A (M x K) and B (K x N) row-major. */
        NN("nn", ""),
        /** A stored K x M and multiplied as its transpose: a weight gradient's x^T @ g (M = out features, K = tokens). */
        TRANSPOSED_A("ta", ", A stored K x M and transposed (a weight gradient's layout)"),
        /** B stored N x K and multiplied as its transpose: a linear layer's x @ W^T (N = out features). */
        TRANSPOSED_B("tb", ", B stored N x K and transposed (a linear layer's x @ W^T)");

        final String numpyArg, description;

        Layout(String numpyArg, String description) {
            this.numpyArg = numpyArg;
            this.description = description;
        }
    }

    public record Result(int m, int k, int n, Layout layout, int threads, Timing ours, double relError, Numpy numpy) {
        public double flop() {
            return 2.0 * m * k * n;
        }
    }

    public static void main(String[] args) {
        int[] shape = {1024, 1024, 1024};
        int warmup = 3, iters = 10;
        Layout layout = Layout.NN;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--size" -> {
                    int size = Integer.parseInt(args[++i]);
                    shape = new int[] {size, size, size};
                }
                case "--shape" -> shape = parseShape(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                case "--transpose-a" -> layout = Layout.TRANSPOSED_A;
                case "--transpose-b" -> layout = Layout.TRANSPOSED_B;
                default -> throw new IllegalArgumentException("cpu-matmul: unknown argument '" + args[i]
                        + "'; expected --size N, --shape MxKxN, --transpose-a or --transpose-b, --warmup W, --iters I");
            }
        }
        run(shape[0], shape[1], shape[2], layout, warmup, iters, System.out);
    }

    /** "MxKxN" (e.g. 8320x256x768): the product (M x K) @ (K x N). */
    public static int[] parseShape(String s) {
        String[] f = s.toLowerCase(java.util.Locale.ROOT).split("x");
        try {
            if (f.length == 3) {
                int[] mkn = {Integer.parseInt(f[0].strip()), Integer.parseInt(f[1].strip()), Integer.parseInt(f[2].strip())};
                if (mkn[0] > 0 && mkn[1] > 0 && mkn[2] > 0) return mkn;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("--shape must be MxKxN, three positive integers such as 8320x256x768, got '" + s + "'");
    }

    public static void run(int size, int warmup, int iters, PrintStream out) {
        run(size, size, size, Layout.NN, warmup, iters, out);
    }

    /** The product in {@code layout}, the same layout on both sides (numpy: {@code a.T @ b} or {@code a @ b.T}, no copy). */
    public static void run(int m, int k, int n, Layout layout, int warmup, int iters, PrintStream out) {
        out.printf("cpu-matmul: %d x %d x %d float32 (M x K x N)%s, %d threads, %d warm-up (at least 3 s) + %d timed iterations%n",
                m, k, n, layout.description, Parallel.threads(), warmup, iters);
        Result r = measure(m, k, n, layout, warmup, iters);
        double flop = r.flop();
        out.printf("  transformers4j sgemm  median %9.3f ms  %7.1f GFLOP/s  (best %.1f, worst %.1f)%n",
                r.ours.medianS * 1e3, flop / r.ours.medianS / 1e9, flop / r.ours.minS / 1e9, flop / r.ours.maxS / 1e9);
        out.printf("  relative error vs float64 (Frobenius): %.2e%n", r.relError);
        if (r.numpy.timing.isPresent()) {
            Timing t = r.numpy.timing.get();
            out.printf("  numpy %-14s  median %9.3f ms  %7.1f GFLOP/s  (best %.1f, worst %.1f)%n", r.numpy.version,
                    t.medianS * 1e3, flop / t.medianS / 1e9, flop / t.minS / 1e9, flop / t.maxS / 1e9);
            out.printf("  numpy's BLAS: %s%n", r.numpy.blas);
            out.printf("  ratio transformers4j / numpy (median GFLOP/s): %.2f%n", t.medianS / r.ours.medianS);
        } else {
            out.println("  numpy: not measured (" + r.numpy.unavailable + ")");
        }
    }

    /** Runs our product and numpy's (one after the other) and returns the figures. */
    public static Result measure(int m, int k, int n, int warmup, int iters) {
        return measure(m, k, n, Layout.NN, warmup, iters);
    }

    public static Result measure(int m, int k, int n, Layout layout, int warmup, int iters) {
        if (m < 1 || k < 1 || n < 1 || warmup < 0 || iters < 1) {
            throw new IllegalArgumentException("cpu-matmul: need M, K, N >= 1, warmup >= 0, iters >= 1; got " + m + " x " + k + " x " + n
                    + ", warmup " + warmup + ", iters " + iters);
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = arena.allocate((long) m * k * Float.BYTES, 64), b = arena.allocate((long) k * n * Float.BYTES, 64);
            MemorySegment c = arena.allocate((long) m * n * Float.BYTES, 64);
            SplittableRandom rng = new SplittableRandom(System.nanoTime());
            for (long e = 0; e < (long) m * k; e++) a.setAtIndex(JAVA_FLOAT, e, (float) rng.nextDouble(-1, 1));
            for (long e = 0; e < (long) k * n; e++) b.setAtIndex(JAVA_FLOAT, e, (float) rng.nextDouble(-1, 1));
            // Warm-up: the requested iterations, and at least WARMUP_NANOS, so the JIT has compiled the kernels.
            long warmStart = System.nanoTime();
            for (int it = 0; it < warmup || System.nanoTime() - warmStart < WARMUP_NANOS; it++) product(m, k, n, layout, a, b, c);
            double[] seconds = new double[iters];
            for (int it = 0; it < iters; it++) {
                long t0 = System.nanoTime();
                product(m, k, n, layout, a, b, c);
                seconds[it] = (System.nanoTime() - t0) * 1e-9;
            }
            float[] af = a.toArray(JAVA_FLOAT), bf = b.toArray(JAVA_FLOAT);
            double err = relativeError(m, k, n, layout == Layout.TRANSPOSED_A ? transpose(af, k, m) : af,
                    layout == Layout.TRANSPOSED_B ? transpose(bf, n, k) : bf, c.toArray(JAVA_FLOAT));
            Numpy numpy = numpy(m, k, n, layout, warmup, iters, Parallel.threads());
            return new Result(m, k, n, layout, Parallel.threads(), Timing.of(seconds), err, numpy);
        }
    }

    private static void product(int m, int k, int n, Layout layout, MemorySegment a, MemorySegment b, MemorySegment c) {
        switch (layout) {
            case NN -> Gemm.sgemm(1, m, n, k, a, 0, 0, k, 1, b, 0, 0, n, 1, c, 0, 0, n, false);
            case TRANSPOSED_A -> Gemm.sgemm(1, m, n, k, a, 0, 0, 1, m, b, 0, 0, n, 1, c, 0, 0, n, false); // A(i, p) at p * m + i
            case TRANSPOSED_B -> Gemm.sgemm(1, m, n, k, a, 0, 0, k, 1, b, 0, 0, 1, k, c, 0, 0, n, false); // B(p, j) at j * k + p
        }
    }

    /** The rows x cols row-major matrix x, transposed (row-major, cols x rows). */
    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
    }

    static double relativeError(int n, float[] a, float[] b, float[] c) {
        return relativeError(n, n, n, a, b, c);
    }

    /** ||C - A@B||_F / ||A@B||_F with A@B in float64 (a plain row-parallel loop, independent of Gemm). */
    static double relativeError(int m, int k, int n, float[] a, float[] b, float[] c) {
        double[] bd = new double[b.length];
        for (int e = 0; e < b.length; e++) bd[e] = b[e];
        double[][] sums = IntStream.range(0, m).parallel().mapToObj(i -> {
            double[] row = new double[n];
            for (int p = 0; p < k; p++) {
                double x = a[i * k + p];
                int off = p * n;
                for (int j = 0; j < n; j++) row[j] += x * bd[off + j];
            }
            double err = 0, ref = 0;
            for (int j = 0; j < n; j++) {
                double d = c[i * n + j] - row[j];
                err += d * d;
                ref += row[j] * row[j];
            }
            return new double[] {err, ref};
        }).toArray(double[][]::new);
        double err = 0, ref = 0;
        for (double[] s : sums) {
            err += s[0];
            ref += s[1];
        }
        return Math.sqrt(err / ref);
    }

    /** Times numpy in a python3 subprocess; explains in one phrase when that is not possible. */
    static Numpy numpy(int m, int k, int n, Layout layout, int warmup, int iters, int threads) {
        Optional<Path> python = onPath("python3");
        if (python.isEmpty()) return new Numpy(Optional.empty(), "", "", "python3 is not on the PATH");
        Path script = null;
        try (InputStream in = CpuMatmulBench.class.getResourceAsStream("numpy_matmul.py")) {
            script = Files.createTempFile("t4j-numpy-matmul", ".py");
            Files.write(script, in.readAllBytes());
            ProcessBuilder pb = new ProcessBuilder(List.of(python.get().toString(), script.toString(), String.valueOf(m), String.valueOf(k),
                    String.valueOf(n), String.valueOf(warmup), String.valueOf(iters), layout.numpyArg)).redirectErrorStream(true);
            List<String> removed = new ArrayList<>();
            for (String v : List.of("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")) {
                String was = pb.environment().remove(v);
                if (was != null) removed.add(v + "=" + was);
            }
            for (String v : List.of("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")) pb.environment().put(v, String.valueOf(threads));
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(1, TimeUnit.HOURS)) p.destroy();
            if (output.contains("No module named 'numpy'")) {
                return new Numpy(Optional.empty(), "", "", "python3 has no numpy");
            }
            String last = output.lines().reduce((x, y) -> y).orElse("");
            String[] f = last.split(" ");
            if (p.exitValue() != 0 || f.length != 8 || !f[0].equals("numpy")) {
                return new Numpy(Optional.empty(), "", "", "python3 numpy run failed: " + last);
            }
            String blas = output.lines().filter(l -> l.startsWith("blas ")).map(l -> l.substring(5)).findFirst().orElse("unknown")
                    + (removed.isEmpty() ? "" : "; " + String.join(", ", removed) + " taken out of its environment (they force a slower kernel)");
            Timing t = new Timing(Double.parseDouble(f[3]), Double.parseDouble(f[5]), Double.parseDouble(f[7]));
            return new Numpy(Optional.of(t), f[1], blas, "");
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return new Numpy(Optional.empty(), "", "", "could not run python3: " + e.getMessage());
        } finally {
            if (script != null) script.toFile().delete();
        }
    }

    private static Optional<Path> onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return Optional.empty();
        return Arrays.stream(path.split(File.pathSeparator)).filter(d -> !d.isEmpty()).map(d -> Path.of(d, exe))
                .filter(Files::isExecutable).findFirst();
    }
}
