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
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class T4jTest {
    /** Exit code and everything printed (picocli's streams and System.out/err). */
    public record Result(int code, String out, String err) {}

    public static synchronized Result t4j(String... args) {
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
        List<List<String>> commands = new ArrayList<>();
        addCommands(new picocli.CommandLine(new T4j()), List.of(), commands);
        assertThat(commands).hasSizeGreaterThan(15);
        for (List<String> cmd : commands) {
            String name = String.join(" ", cmd);
            ArrayList<String> args = new ArrayList<>(cmd);
            args.add("--help");
            Result r = t4j(args.toArray(String[]::new));
            assertThat(r.code()).as(name).isZero();
            assertThat(r.out()).as(name).startsWith("Usage: t4j " + name);
            // picocli warns on stderr when a description has a bare % (descriptions are format strings)
            assertThat(r.err()).as(name).isEmpty();
        }
        Result top = t4j("--help");
        assertThat(top.code()).isZero();
        assertThat(top.out()).contains("train", "eval", "plot", "info", "bench");
        assertThat(t4j().out()).contains("Usage: t4j");
        assertThat(t4j("train", "--help").out()).contains("--model", "--dataset", "--epochs", "--batch-size", "--lr",
                "--optimizer", "--weight-decay", "--warmup", "--schedule", "--seed", "--out", "--device", "--limit-train",
                "--resume", "--data-dir", "--val-split", "--threads");
        assertThat(t4j("--version").out()).contains("t4j ");
        // every kind of checkpoint the explorer opens is named in its help
        assertThat(t4j("explore", "--help").out().replaceAll("\\s+", " ")).contains("image classifiers and summarizers", "masked autoencoders");
    }

    private static void addCommands(picocli.CommandLine cl, List<String> path, List<List<String>> into) {
        cl.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help") || !sub.getCommandName().equals(name)) return; // aliases once
            List<String> p = new ArrayList<>(path);
            p.add(name);
            into.add(p);
            addCommands(sub, p, into);
        });
    }

    @Test
    void badArgumentsGiveClearErrors() {
        Result r = t4j("train", "--epochs", "three");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--epochs': 'three' is not an int");

        r = t4j("train", "--bogus");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option: '--bogus'");

        // bad values are usage errors: one line naming the option, exit 2, no usage dump
        r = t4j("train", "--epochs", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("t4j train: error: --epochs must be positive, got 0", "Run 't4j train --help' for the options.")
                .doesNotContain("Usage:");
        r = t4j("train", "--threads", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("t4j train: error: --threads must be >= 1, got 0").doesNotContain("Usage:");
        r = t4j("train", "--model", "summarizer-tiny", "--dataset", "fashion-mnist");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("summarizer-tiny is a summarizer, which trains on text pairs (--dataset jsonl:DIR");
        assertThat(t4j("train", "--dataset", "jsonl:/tmp/x").err()).contains("holds text pairs, which summarizer models train on");
        assertThat(t4j("train", "--image-size", "-3").err()).contains("--image-size must be positive");
        assertThat(t4j("train", "--background", "pink").err()).contains("--background must be white or black, got 'pink'");
        assertThat(t4j("train", "--no-test", "--limit-test", "5").err()).contains("--no-test and --limit-test contradict");
        assertThat(t4j("eval", "--checkpoint", "x", "--split", "dev").err()).contains("--split must be test, val or train, got 'dev'");
        // failures (not usage) exit 1 and name no Java exception class
        r = t4j("eval", "--checkpoint", "/nonexistent/best.safetensors");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).doesNotContain("Exception");

        assertThat(t4j("train", "--optimizer", "rmsprop").err()).contains("--optimizer must be adamw, adam or sgd, got 'rmsprop'");
        assertThat(t4j("train", "--schedule", "cyclic").err()).contains("--schedule must be cosine, linear, step or constant");
        assertThat(t4j("train", "--model", "vit-huge").err()).contains("unknown model 'vit-huge'; known: vit-mini-p4, vit-tiny-p4");
        assertThat(t4j("train", "--val-split", "1.5").err()).contains("--val-split must be in [0, 1)");
        assertThat(t4j("train", "--resume").err()).contains("--resume needs --out DIR");
        r = t4j("train", "--precision", "bf16");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--precision bf16 is for --device cuda", "train in fp32 on the CPU");
        assertThat(t4j("train", "--model", "summarizer-tiny", "--precision", "BF16", "--device", "cpu").err()).contains("--precision bf16 is for --device cuda");

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
        // without a GPU the kernels have no architecture to be compiled for: said in one line, not a failure
        Result k = t4j("info", "--compile-kernels");
        assertThat(k.code()).as(k.err()).isZero();
        assertThat(k.out()).containsAnyOf("no kernels compiled: ", "kernel files for sm_");
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
        Result changed = t4j("train", "--out", run.toString(), "--resume", "--epochs", "5", "--lr", "0.5", "--batch-size", "32",
                "--no-progress");
        assertThat(changed.code()).isEqualTo(2);
        assertThat(changed.err()).contains("--lr 0.5 (the run has 0.002)").doesNotContain("--batch-size").doesNotContain("--epochs");
        assertThat(run.resolve("metrics.csv")).hasContent(metrics.strip());
        assertThat(t4j("train", "--out", run.toString(), "--resume", "--epochs", "1").err()).contains("--epochs may only grow");
        // a finished run resumed as it is: nothing to do, said so
        Result done = t4j("train", "--out", run.toString(), "--resume", "--data-dir", data.toString(), "--no-progress", "--no-test");
        assertThat(done.code()).as(done.err()).isZero();
        assertThat(done.out()).contains("nothing to train: all 2 epochs of the run are done");
        assertThat(run.resolve("metrics.csv")).hasContent(metrics.strip());

        Result eval = t4j("eval", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--data-dir",
                data.toString(), "--split", "test");
        assertThat(eval.code()).as(eval.err()).isZero();
        assertThat(testAccuracy(eval.out())).isEqualTo(testAccuracy(train.out()));

        Result plot = t4j("plot", run.toString(), run.toString(), "--out", tmp.toString());
        assertThat(plot.code()).as(plot.err()).isZero();
        assertThat(tmp.resolve("compare_loss.png")).isRegularFile();

        // eval on the validation split, in small batches: labelled "val", not "test"
        Result val = t4j("eval", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--data-dir",
                data.toString(), "--split", "val", "--batch-size", "7");
        assertThat(val.code()).as(val.err()).isZero();
        assertThat(val.out()).contains("val: ", "val accuracy", "/64)").doesNotContain("test accuracy");

        // --resume --epochs 3 extends the finished run by one epoch; the first two epochs' rows stay as they were
        Result more = t4j("train", "--out", run.toString(), "--resume", "--epochs", "3", "--data-dir", data.toString(), "--no-progress",
                "--limit-test", "40");
        assertThat(more.code()).as(more.err()).isZero();
        assertThat(more.out()).contains("the run now trains for 3 epochs (it was configured for 2)", "epoch 3/3",
                "the test pass uses a seeded random 40 of the 100 test images");
        // the earlier test row is replaced by the extended run's
        String trained = metrics.lines().filter(l -> !l.startsWith("test,")).collect(java.util.stream.Collectors.joining("\n"));
        assertThat(Files.readString(run.resolve("metrics.csv"))).startsWith(trained);
        assertThat(testAccuracy(more.out())).endsWith("/40)");
        assertThat(Files.readString(run.resolve("config.json"))).contains("\"epochs\" : 3");
        assertThat(Files.readString(run.resolve("config.json"))).contains("\"test_limit\" : 40");
        // a resume without --limit-test keeps the run's own test pass (a crash and --resume must not change it)
        Result again4 = t4j("train", "--out", run.toString(), "--resume", "--epochs", "4", "--data-dir", data.toString(), "--no-progress");
        assertThat(again4.code()).as(again4.err()).isZero();
        assertThat(testAccuracy(again4.out())).endsWith("/40)");
    }

    @Test
    void predictClassifiesImagesAndFoldersAsTextCsvAndJson(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        writeIdx(data, "train", 128, 1);
        writeIdx(data, "t10k", 20, 2);
        Result train = t4j("train", "--dataset", "fashion-mnist", "--data-dir", data.toString(), "--epochs", "1", "--batch-size", "32",
                "--out", run.toString(), "--no-progress", "--workers", "0", "--no-test");
        assertThat(train.code()).as(train.err()).isZero();
        assertThat(train.out()).contains("no test pass (--no-test)").doesNotContain("confusion matrix");
        // two 28x28 grey PNGs (one in a sub-folder) and a colour one of another size: resized and converted as the run's data
        Path images = tmp.resolve("images");
        java.awt.image.BufferedImage grey = new java.awt.image.BufferedImage(28, 28, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) for (int x = 4; x < 12; x++) grey.getRaster().setSample(x, y, 0, 200);
        Files.createDirectories(images.resolve("sub"));
        javax.imageio.ImageIO.write(grey, "png", images.resolve("a.png").toFile());
        javax.imageio.ImageIO.write(grey, "png", images.resolve("sub/b.png").toFile());
        java.awt.image.BufferedImage rgb = new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB);
        Path single = tmp.resolve("photo.jpg");
        javax.imageio.ImageIO.write(rgb, "jpg", single.toFile());
        String ckpt = run.resolve("checkpoints/best.safetensors").toString();

        Result text = t4j("predict", "--checkpoint", ckpt, single.toString(), images.toString());
        assertThat(text.code()).as(text.err()).isZero();
        List<String> lines = text.out().strip().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith(single.toString());
        assertThat(lines.get(1)).startsWith(images.resolve("a.png").toString());
        assertThat(lines.get(2)).startsWith(images.resolve("sub/b.png").toString());
        assertThat(lines.get(1)).matches(".*(  [^%]+ [0-9.]+%){3}");
        // the same image gives the same prediction
        assertThat(lines.get(1).substring(images.resolve("a.png").toString().length()))
                .isEqualTo(lines.get(2).substring(images.resolve("sub/b.png").toString().length()));

        Result csv = t4j("predict", "--checkpoint", ckpt, "--format", "csv", "--top-k", "2", images.toString());
        assertThat(csv.code()).as(csv.err()).isZero();
        List<String> rows = csv.out().strip().lines().toList();
        assertThat(rows.getFirst()).isEqualTo("file,rank,label,class_index,probability,error");
        assertThat(rows).hasSize(5);
        assertThat(rows.get(1)).startsWith(images.resolve("a.png") + ",1,");
        double p1 = Double.parseDouble(rows.get(1).split(",")[4]), p2 = Double.parseDouble(rows.get(2).split(",")[4]);
        assertThat(p1).isBetween(0.0, 1.0).isGreaterThanOrEqualTo(p2);

        Result json = t4j("predict", "--checkpoint", ckpt, "--format", "json", "--top-k", "10", images.resolve("a.png").toString());
        assertThat(json.code()).as(json.err()).isZero();
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
        assertThat(tree.size()).isEqualTo(1);
        double sum = 0;
        for (var p : tree.get(0).get("predictions")) sum += p.get("probability").asDouble();
        assertThat(tree.get(0).get("predictions").size()).isEqualTo(10);
        assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));

        // a broken file: the others are still classified, the broken one is named, exit 1
        Files.writeString(images.resolve("broken.png"), "");
        Result bad = t4j("predict", "--checkpoint", ckpt, images.toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.out().strip().lines()).hasSize(3);
        assertThat(bad.err()).contains(images.resolve("broken.png").toString(), "1 of 3 files could not be read as images");
        assertThat(t4j("predict", "--checkpoint", ckpt, tmp.resolve("nope.png").toString()).err())
                .contains(tmp.resolve("nope.png") + ": no such file or folder");
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
