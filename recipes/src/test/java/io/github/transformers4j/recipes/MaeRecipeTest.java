package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.Checkpoint;
import io.github.transformers4j.train.EpochResult;
import io.github.transformers4j.train.MetricsLog;
import io.github.transformers4j.train.MetricsRow;
import io.github.transformers4j.train.TrainingLoop;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code t4j pretrain --model mae-tiny}, then {@code t4j train --model mae-tiny --init-from ...} as a linear probe
 * ({@code --freeze-encoder}) and as fine-tuning, end to end on tiny Fashion-MNIST-format files (8 x 8 images) that
 * the test writes.
 */
class MaeRecipeTest {
    @TempDir
    static Path data;
    @TempDir
    static Path runs;
    static Path pretrained;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void pretrain() throws IOException {
        writeIdx(data, "train", 40, 1);
        writeIdx(data, "t10k", 8, 2);
        Path run = runs.resolve("pre");
        long t0 = System.nanoTime();
        var losses = PretrainRecipe.pretrain(cfg(null, false), new PretrainRecipe.MaeOptions(0.75, false, 4), run,
                new VisionRecipe.Session(QUIET, false), false);
        assertThat(losses.epochs()).hasSize(1);
        assertThat(losses.epochs().get(0).trainLoss()).isFinite().isPositive();
        assertThat(losses.epochs().get(0).trainAcc()).as("pre-training has no accuracy (it printed acc 0.00%%)").isNaN();
        pretrained = run.resolve(TrainingLoop.LAST);
        System.err.printf("pretrain %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    static RunConfig cfg(Path initFrom, boolean freeze) {
        return new RunConfig("mae-tiny", "fashion-mnist", data.toString(), 1, 16, 1e-3, "adamw", 0.05, 0.0, "constant", 7, 0.25,
                0, "cpu", 1, "val_loss", 0, 1.0, 0, false, initFrom == null ? null : initFrom.toString(), freeze);
    }

    /** A reconstruction picture that cannot be written is a warning: the run goes on and checkpoints every epoch. */
    @Test
    void aPictureThatCannotBeWrittenDoesNotEndTheRun() throws IOException {
        Path run = runs.resolve("no-picture");
        // a folder that is not empty where the PNG should go (ImageIO deletes what it replaces, and an empty folder goes)
        Files.createDirectories(run.resolve(PretrainRecipe.PNG));
        Files.writeString(run.resolve(PretrainRecipe.PNG).resolve("keep.txt"), "x");
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        var r = PretrainRecipe.pretrain(cfg(null, false).withEpochs(2), new PretrainRecipe.MaeOptions(0.75, false, 4), run,
                new VisionRecipe.Session(new PrintStream(text, true), false), false);
        assertThat(r.epochs()).hasSize(2);
        assertThat(Checkpoint.load(run.resolve(TrainingLoop.LAST)).epoch()).isEqualTo(2);
        assertThat(text.toString()).contains("warning: " + PretrainRecipe.PNG + " not written");
    }

    /** Pre-training runs through the training loop, so it resumes: one epoch, then the run extended to two. */
    @Test
    void pretrainingResumesFromItsLastCheckpoint() throws IOException {
        Path run = runs.resolve("resumed");
        PretrainRecipe.pretrain(cfg(null, false), new PretrainRecipe.MaeOptions(0.75, false, 4), run, new VisionRecipe.Session(QUIET, false), false);
        RunConfig two = cfg(null, false).withEpochs(2);
        var r = PretrainRecipe.pretrain(two, new PretrainRecipe.MaeOptions(0.75, false, 4), run, new VisionRecipe.Session(QUIET, false), true);
        assertThat(r.epochs()).extracting(EpochResult::epoch).containsExactly(2);
        assertThat(MetricsLog.read(run).stream().filter(x -> x.kind().equals(MetricsRow.EPOCH)).map(MetricsRow::epoch)).containsExactly(1, 2);
        assertThat(Checkpoint.load(run.resolve(TrainingLoop.LAST)).epoch()).isEqualTo(2);
    }

    /**
     * The step a GPU captures (each batch's masks drawn on the host and copied into fixed inputs), run on the CPU: the
     * same losses and weights as the eager step, so every batch trains on its own masks.
     */
    @Test
    void theCapturableStepTrainsLikeTheEagerStep(@TempDir Path eagerRun, @TempDir Path capturableRun) {
        RunConfig c = cfg(null, false);
        var data = VisionRecipe.openData(c, null, false);
        MaskedAutoencoder eager = ModelZoo.createPretrainer("mae-tiny", 8, 1, new Random4j(3)),
                captured = ModelZoo.createPretrainer("mae-tiny", 8, 1, new Random4j(3));
        TrainingLoop.Config tc = TrainingLoop.Config.builder().epochs(2).logEvery(1).plots(false).build();
        try (var loader = VisionRecipe.loader(data.train(), 8, true, 7, 0)) {
            Random4j ra = new Random4j(5), rb = new Random4j(5);
            FitResult a = new TrainingLoop<>(new PretrainRecipe.MaeTask(eager, ra, "{}"), adamw(eager), ra, eagerRun, tc, QUIET)
                    .fit(loader, null, false);
            FitResult b = new TrainingLoop<>(new PretrainRecipe.MaeTask(captured, rb, "{}"), adamw(captured), rb, capturableRun, tc, QUIET)
                    .capturableStepsOnCpu(true).fit(loader, null, false);
            for (int i = 0; i < 2; i++)
                assertThat(b.epochs().get(i).trainLoss()).isCloseTo(a.epochs().get(i).trainLoss(), Offset.offset(1e-6));
            assertThat(rb.counter()).isEqualTo(ra.counter()).isPositive();
        }
        Map<String, Tensor> we = eager.stateDict(), wc = captured.stateDict();
        for (String k : we.keySet()) assertThat(Arrays.equals(wc.get(k).toFloatArray(), we.get(k).toFloatArray())).as(k).isTrue();
    }

    private static Optimization adamw(MaskedAutoencoder mae) {
        return Optimizers.create(mae, "adamw", 1e-3, 0.05, "constant", 0, 10, 0);
    }

    @Test
    void pretrainingWritesACheckpointMetricsAndTheReconstructionGrid() throws IOException {
        Path run = pretrained.getParent().getParent();
        Checkpoint ck = Checkpoint.load(pretrained);
        assertThat(ck.model().keySet()).anyMatch(k -> k.startsWith("encoder.layers.")).anyMatch(k -> k.startsWith("decoder.pred."));
        assertThat(ck.config()).contains(PretrainRecipe.FORMAT).contains("\"maskRatio\" : 0.75");
        List<MetricsRow> rows = MetricsLog.read(run);
        assertThat(rows.stream().filter(r -> r.kind().equals(MetricsRow.EPOCH))).singleElement()
                .satisfies(r -> assertThat(r.valLoss()).isFinite().isPositive());
        BufferedImage png = ImageIO.read(run.resolve(PretrainRecipe.PNG).toFile());
        // 4 rows (original, masked, reconstruction, reconstruction + visible) of 4 images of 8 x 8 enlarged 4 times
        assertThat(png.getHeight()).isEqualTo(4 * (32 + 2) + 2);
        assertThat(png.getWidth()).isEqualTo(110 + 4 * (32 + 2) + 2);
    }

    @Test
    void linearProbeTrainsTheHeadAndLeavesThePretrainedEncoderUntouched() {
        Path run = runs.resolve("probe");
        long t0 = System.nanoTime();
        VisionRecipe.train(cfg(pretrained, true), run, false, new VisionRecipe.Session(QUIET, false));
        System.err.printf("probe %.1f s%n", (System.nanoTime() - t0) / 1e9);
        Map<String, Tensor> before = Checkpoint.load(pretrained).model(), after = Checkpoint.load(run.resolve(TrainingLoop.LAST)).model();
        int encoderTensors = 0;
        for (var e : after.entrySet()) {
            if (!e.getKey().startsWith("encoder.")) continue;
            encoderTensors++;
            // Arrays.equals: AssertJ's containsExactly is slow on arrays of a million elements
            assertThat(java.util.Arrays.equals(e.getValue().toFloatArray(), before.get(e.getKey()).toFloatArray())).as(e.getKey()).isTrue();
        }
        assertThat(encoderTensors).isGreaterThan(10);
        assertThat(Checkpoint.load(run.resolve(TrainingLoop.LAST)).optimizer().keySet())
                .as("the optimizer holds state for the head only").allMatch(k -> !k.contains("encoder"));
    }

    @Test
    void fineTuningStartsFromThePretrainedEncoderAndUpdatesIt() {
        Path run = runs.resolve("finetune");
        VisionRecipe.train(cfg(pretrained, false), run, false, new VisionRecipe.Session(QUIET, false));
        Map<String, Tensor> before = Checkpoint.load(pretrained).model(), after = Checkpoint.load(run.resolve(TrainingLoop.LAST)).model();
        String k = "encoder.layers.0.linear1.weight";
        float[] a = after.get(k).toFloatArray(), b = before.get(k).toFloatArray();
        assertThat(java.util.Arrays.equals(a, b)).isFalse();
        double diff = 0, norm = 0;
        for (int i = 0; i < a.length; i++) {
            diff += Math.abs(a[i] - b[i]);
            norm += Math.abs(b[i]);
        }
        assertThat(diff / norm).as("one epoch at lr 1e-3 moves the weights a little, not to a fresh initialisation").isLessThan(0.2);
    }

    @Test
    void freezeEncoderNeedsAModelWithAnEncoder() {
        RunConfig c = cfg(null, true);
        RunConfig vit = new RunConfig("vit-mini-p4", c.dataset(), c.dataDir(), 1, 32, 1e-3, "adamw", 0.05, 0.0, "constant", 7, 0.25,
                0, "cpu", 1, "val_loss", 0, 1.0, 0, false, null, true);
        assertThatThrownBy(() -> VisionRecipe.train(vit, runs.resolve("bad"), false, new VisionRecipe.Session(QUIET, false)))
                .hasMessageContaining("--freeze-encoder").hasMessageContaining("vit-mini-p4");
    }

    /** Fashion-MNIST IDX files with n 8 x 8 images: class k = brighter rows around k over noise. */
    static void writeIdx(Path dir, String prefix, int n, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] px = new byte[n * 64], labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int k = i % 10;
            labels[i] = (byte) k;
            for (int p = 0; p < 64; p++) px[i * 64 + p] = (byte) (r.nextInt(80) + ((p / 8 + k) % 10 < 3 ? 150 : 0));
        }
        try (var out = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte")))) {
            out.writeInt(0x803);
            out.writeInt(n);
            out.writeInt(8);
            out.writeInt(8);
            out.write(px);
        }
        try (var out = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte")))) {
            out.writeInt(0x801);
            out.writeInt(n);
            out.write(labels);
        }
    }

}
