package io.github.transformers4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class T4jTest {
    /** Exit code and everything printed (picocli's streams and System.out/err). */
    record Result(int code, String out, String err) {}

    static synchronized Result t4j(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        ByteArrayOutputStream sysOut = new ByteArrayOutputStream(), sysErr = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(sysOut, true));
        System.setErr(new PrintStream(sysErr, true));
        int code;
        try {
            code = T4j.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(code, out + sysOut.toString(), err + sysErr.toString());
    }

    @Test
    void helpWorksForEveryCommand() {
        for (String cmd : List.of("train", "eval", "plot", "info", "bench", "models")) {
            Result r = t4j(cmd, "--help");
            assertThat(r.code()).as(cmd).isZero();
            assertThat(r.out()).as(cmd).startsWith("Usage: t4j " + cmd);
        }
        Result top = t4j("--help");
        assertThat(top.code()).isZero();
        assertThat(top.out()).contains("train", "eval", "plot", "info", "bench");
        assertThat(t4j().out()).contains("Usage: t4j");
        assertThat(t4j("train", "--help").out()).contains("--model", "--dataset", "--epochs", "--batch-size", "--lr",
                "--optimizer", "--weight-decay", "--warmup", "--schedule", "--seed", "--out", "--device", "--limit-train",
                "--resume", "--data-dir", "--val-split", "--threads");
        assertThat(t4j("--version").out()).contains("t4j ");
    }

    @Test
    void badArgumentsGiveClearErrors() {
        Result r = t4j("train", "--epochs", "three");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--epochs': 'three' is not an int");

        r = t4j("train", "--bogus");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option: '--bogus'");

        r = t4j("train", "--epochs", "0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("t4j train: error: --epochs must be positive, got 0");

        assertThat(t4j("train", "--optimizer", "rmsprop").err()).contains("--optimizer must be adamw, adam or sgd, got 'rmsprop'");
        assertThat(t4j("train", "--schedule", "cyclic").err()).contains("--schedule must be cosine, linear, step or constant");
        assertThat(t4j("train", "--model", "vit-huge").err()).contains("unknown model 'vit-huge'; known: vit-mini-p4, vit-tiny-p4");
        assertThat(t4j("train", "--val-split", "1.5").err()).contains("--val-split must be in [0, 1)");
        assertThat(t4j("train", "--resume").err()).contains("--resume needs --out DIR");

        r = t4j("eval");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--checkpoint=FILE'");
        assertThat(t4j("eval", "--checkpoint", "/nonexistent/best.safetensors").err()).contains("no such file /nonexistent/best.safetensors");
        assertThat(t4j("plot", "/nonexistent/run").err()).contains("/nonexistent/run is not a run folder");
        assertThat(t4j("plot").err()).contains("Missing required parameter: 'RUN'");
        assertThat(t4j("bench", "gpu-matmul").err()).contains("unknown benchmark 'gpu-matmul'; known: cpu-matmul");
    }

    @Test
    void infoShowsThreadsSimdMemoryAndCuda() {
        Result r = t4j("info");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("java:", "tensor threads", "simd:", "FloatVector.SPECIES_PREFERRED", "memory:", "cuda:");
    }

    @Test
    void trainWritesARunFolderAndEvalOfTheBestCheckpointGivesTheSameTestAccuracy(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        writeIdx(data, "train", 256, 1);
        writeIdx(data, "t10k", 100, 2);
        Result train = t4j("train", "--dataset", "fashion-mnist", "--data-dir", data.toString(), "--epochs", "2",
                "--batch-size", "32", "--val-split", "0.25", "--out", run.toString(), "--no-progress", "--workers", "0",
                "--lr", "0.002");
        assertThat(train.code()).as(train.err()).isZero();
        assertThat(train.out()).contains("803,338 parameters", "epoch 1/2", "epoch 2/2", "confusion matrix", "macro avg");
        for (String f : List.of("config.json", "metrics.csv", "metrics.jsonl", "train.log", "test_report.txt", "loss.png",
                "accuracy.png", "confusion_matrix.png", "checkpoints/last.safetensors", "checkpoints/best.safetensors"))
            assertThat(run.resolve(f)).as(f).isRegularFile();

        // the same --out again, without --resume: refused, the run is left as it was
        String metrics = Files.readString(run.resolve("metrics.csv"));
        Result again = t4j("train", "--dataset", "fashion-mnist", "--data-dir", data.toString(), "--epochs", "1",
                "--out", run.toString(), "--no-progress");
        assertThat(again.code()).isNotZero();
        assertThat(again.err()).contains("already holds a run", "--resume", "--overwrite");
        assertThat(run.resolve("metrics.csv")).hasContent(metrics.strip());
        assertThat(t4j("train", "--out", run.toString(), "--resume", "--overwrite").err()).contains("give one of them");
        Path fresh = tmp.resolve("fresh");
        assertThat(t4j("train", "--out", fresh.toString(), "--time-limit", "-1").err()).contains("--time-limit must be >= 0 minutes, got -1.0");
        assertThat(fresh).doesNotExist();
        // --resume with options that would change the run: refused, naming them (it used to ignore them silently)
        Result changed = t4j("train", "--out", run.toString(), "--resume", "--epochs", "5", "--lr", "0.002", "--no-progress");
        assertThat(changed.code()).isNotZero();
        assertThat(changed.err()).contains("--epochs 5 (the run has 2)").doesNotContain("--lr");
        assertThat(run.resolve("metrics.csv")).hasContent(metrics.strip());

        Result eval = t4j("eval", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--data-dir",
                data.toString(), "--split", "test");
        assertThat(eval.code()).as(eval.err()).isZero();
        assertThat(testAccuracy(eval.out())).isEqualTo(testAccuracy(train.out()));

        Result plot = t4j("plot", run.toString(), run.toString(), "--out", tmp.toString());
        assertThat(plot.code()).as(plot.err()).isZero();
        assertThat(tmp.resolve("compare_loss.png")).isRegularFile();
    }

    private static String testAccuracy(String out) {
        Matcher m = Pattern.compile("test accuracy ([0-9.]+%) \\((\\d+)/(\\d+)\\)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(0);
    }

    /**
     * Fashion-MNIST-format IDX files (gzip) of n 28x28 images in 10 classes: class k is a bright vertical bar at
     * columns 2k..2k+7 over noise, so a model can learn a little in a few steps.
     */
    static void writeIdx(Path dir, String prefix, int n, long seed) throws IOException {
        Files.createDirectories(dir);
        java.util.Random r = new java.util.Random(seed);
        byte[] labels = new byte[n], pixels = new byte[n * 784];
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(10);
            labels[i] = (byte) k;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                    pixels[i * 784 + y * 28 + x] = (byte) (x >= 2 * k && x < 2 * k + 8 ? 150 + r.nextInt(100) : r.nextInt(90));
        }
        try (var out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte.gz"))))) {
            out.writeInt(0x00000803);
            out.writeInt(n);
            out.writeInt(28);
            out.writeInt(28);
            out.write(pixels);
        }
        try (var out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))))) {
            out.writeInt(0x00000801);
            out.writeInt(n);
            out.write(labels);
        }
    }
}
