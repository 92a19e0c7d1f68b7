package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.data.vision.ImageClassificationDataset;
import io.github.transformers4j.data.vision.transforms.Mixup;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.Callback;
import io.github.transformers4j.train.Checkpoint;
import io.github.transformers4j.train.EpochResult;
import io.github.transformers4j.train.Evaluation;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.MetricsLog;
import io.github.transformers4j.train.MetricsRow;
import io.github.transformers4j.train.ModelEma;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.Plots;
import io.github.transformers4j.train.TrainingLoop;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image-classification task through the training loop: learning, bf16, evaluation, resume and the test pass. */
class ImageClassificationTaskTest {
    static final long SEED = 7;
    final ImageClassificationDataset train = Fixtures.quadrants(512, 1), val = Fixtures.quadrants(128, 2);
    /** Mixup / CutMix of the trainer's batches (null: none). */
    Mixup mix;
    /** Decay of a moving average of the weights (0: none). */
    double ema;

    /** A fresh model, optimizer and trainer for a run folder: what a (re)started process builds. */
    TrainingLoop<Batch> trainer(Path run, int epochs, PrintStream out) {
        Random4j rng = new Random4j(SEED);
        var model = new Fixtures.TinyMlp(64, 32, 4, 0.1, rng);
        // 512 / 32 = 16 steps per epoch; AdamW with 5 warm-up steps, then cosine over the whole run
        Optimization opt = Optimizers.create(model, "adamw", 0.01, 0.01, "cosine", 5, 16L * epochs, 1.0);
        if (ema > 0) opt = new ModelEma(opt, model, ema);
        return new TrainingLoop<>(new ImageClassificationTask(model, "{\"test\":true}", 0, mix, rng), opt, rng, run,
                TrainingLoop.Config.of(epochs).withLogEvery(4), out);
    }

    static ImageClassifier model(TrainingLoop<Batch> loop) {
        return (ImageClassifier) loop.module();
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    @Test
    void labelSmoothingIsPyTorchsOnTheTrainingLossOnly() {
        var model = new Fixtures.TinyMlp(64, 32, 4, 0.0, new Random4j(3));
        Tensor images = Tensor.randn(new Random4j(4), 5, 64), labels = Tensor.ofLongs(new long[] {0, 3, 1, 1, 2}, 5);
        double eps = 0.2;
        var task = new ImageClassificationTask(model, "{}", eps, null, null);
        double loss = task.forward(new Tensor[] {images, labels}).loss().item();
        // (1 - eps) (-log p_y) + eps mean_j (-log p_j), per image, then the batch mean: torch's label_smoothing
        float[] z = model.forward(images).toFloatArray();
        long[] y = labels.toLongArray();
        double expected = 0;
        for (int i = 0; i < 5; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0, mean = 0;
            for (int j = 0; j < 4; j++) max = Math.max(max, z[4 * i + j]);
            for (int j = 0; j < 4; j++) sum += Math.exp(z[4 * i + j] - max);
            double lse = max + Math.log(sum);
            for (int j = 0; j < 4; j++) mean += (lse - z[4 * i + j]) / 4;
            expected += ((1 - eps) * (lse - z[4 * i + (int) y[i]]) + eps * mean) / 5;
        }
        assertThat(loss).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
        double plain = new ImageClassificationTask(model, "{}").forward(new Tensor[] {images, labels}).loss().item();
        assertThat(loss).isNotCloseTo(plain, org.assertj.core.data.Offset.offset(1e-3));
    }

    @Test
    void mixupAndCutMixBlendEachImageWithItsPartnerAndMixTheLoss() {
        var model = new Fixtures.TinyMlp(16, 8, 3, 0.0, new Random4j(5));
        Tensor images = Tensor.randn(new Random4j(6), 4, 1, 4, 4);
        long[] y = {0, 2, 1, 2};
        var batch = new Batch(images, Tensor.ofLongs(y, 4));
        for (Mixup mix : List.of(Mixup.of(0.8, 0), Mixup.of(0, 1.0))) {
            Random4j rng = new Random4j(9);
            var task = new ImageClassificationTask(model, "{}", 0, mix, rng);
            Tensor[] in = task.inputs(batch);
            assertThat(rng.counter()).as("one block of the loop's generator per batch").isEqualTo(1);
            assertThat(in).hasSize(5);
            assertThat(in[2].toLongArray()).containsExactly(3, 2, 1, 0);
            double lam = in[4].item();
            float[] m = in[3].toFloatArray(), x = images.toFloatArray();
            if (mix.cutmixAlpha() > 0) { // 0 inside the box, 1 outside; lambda = the share outside
                double ones = 0;
                for (float v : m) {
                    assertThat(v).isIn(0f, 1f);
                    ones += v;
                }
                assertThat(lam).isCloseTo(ones / 16, org.assertj.core.data.Offset.offset(1e-6));
            } else {
                assertThat(m).containsOnly((float) lam);
            }
            // expected: mixed = m x_i + (1 - m) x_(3-i), loss = lam CE(y) + (1 - lam) CE(y reversed)
            float[] mixed = new float[x.length];
            for (int i = 0; i < 4; i++)
                for (int p = 0; p < 16; p++) mixed[16 * i + p] = m[p] * x[16 * i + p] + (1 - m[p]) * x[16 * (3 - i) + p];
            float[] z = model.forward(Tensor.of(mixed, 4, 1, 4, 4)).toFloatArray();
            double expected = 0;
            for (int i = 0; i < 4; i++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < 3; j++) max = Math.max(max, z[3 * i + j]);
                for (int j = 0; j < 3; j++) sum += Math.exp(z[3 * i + j] - max);
                double lse = max + Math.log(sum);
                expected += (lam * (lse - z[3 * i + (int) y[i]]) + (1 - lam) * (lse - z[3 * i + (int) y[3 - i]])) / 4;
            }
            assertThat(task.forward(in).loss().item()).as("%s", mix).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
        }
        var plain = new ImageClassificationTask(model, "{}", 0, Mixup.of(0, 0), null);
        assertThat(plain.inputs(batch)).hasSize(2);
    }

    @Test
    void learnsSyntheticDataLossFallsAccuracyBeatsChance(@TempDir Path run) {
        FitResult r;
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            r = trainer(run, 3, quiet()).fit(tl, vl, false);
        }
        assertThat(r.epochs()).hasSize(3);
        double first = r.epochs().get(0).trainLoss(), last = r.epochs().get(2).trainLoss();
        assertThat(last).isLessThan(first).isLessThan(Math.log(4) * 0.5);
        assertThat(r.epochs().get(2).valAcc()).isGreaterThan(0.9); // chance is 0.25
        assertThat(run.resolve(TrainingLoop.LAST)).isRegularFile();
        assertThat(run.resolve(TrainingLoop.BEST)).isRegularFile();
        assertThat(run.resolve(Plots.LOSS)).isRegularFile();
        List<MetricsRow> rows = MetricsLog.read(run);
        assertThat(rows.stream().filter(x -> x.kind().equals("epoch"))).hasSize(3);
        // 512 / 32 = 16 steps per epoch, a step row every 4 steps
        assertThat(rows.stream().filter(x -> x.kind().equals("step"))).hasSize(12);
        assertThat(rows.get(rows.size() - 1).step()).isEqualTo(48);
    }

    @Test
    void bf16MixedPrecisionLearnsLikeFp32AndKeepsWeightsInFp32(@TempDir Path fp32Run, @TempDir Path bf16Run) {
        FitResult fp32, bf16;
        TrainingLoop<Batch> mixed = trainer(bf16Run, 3, quiet()).precision(io.github.transformers4j.tensor.DType.BF16);
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            fp32 = trainer(fp32Run, 3, quiet()).fit(tl, vl, false);
            bf16 = mixed.fit(tl, vl, false);
        }
        assertThat(model(mixed).parameters()).allSatisfy(p -> assertThat(p.data().dtype()).isEqualTo(io.github.transformers4j.tensor.DType.F32));
        for (int e = 0; e < 3; e++) {
            assertThat(bf16.epochs().get(e).trainLoss()).isFinite().isCloseTo(fp32.epochs().get(e).trainLoss(),
                    org.assertj.core.data.Percentage.withPercentage(5));
        }
        assertThat(bf16.epochs().get(2).valAcc()).isGreaterThan(0.9);
        // the rounding is real: the two runs do not produce the same numbers
        assertThat(bf16.epochs().get(2).trainLoss()).isNotEqualTo(fp32.epochs().get(2).trainLoss());
    }

    @Test
    void evaluationDoesNotUpdateOrRecordGradients(@TempDir Path run) {
        TrainingLoop<Batch> t = trainer(run, 1, quiet());
        Map<String, Tensor> before = copy(model(t).stateDict());
        Evaluation e;
        try (var vl = Fixtures.loader(val, 64, false, 0)) {
            e = ImageClassificationTask.evaluate(model(t), vl, 4, 1);
        }
        assertThat(e.samples()).isEqualTo(128);
        assertThat(e.confusion().total()).isEqualTo(128);
        assertThat(model(t).isTraining()).isTrue();
        model(t).parameters().forEach(p -> assertThat(p.grad()).isNull());
        assertSameState(before, model(t).stateDict());
    }

    @Test
    void sameSeedGivesIdenticalMetricsCsv(@TempDir Path a, @TempDir Path b) throws Exception {
        for (Path run : List.of(a, b)) {
            try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
                trainer(run, 2, quiet()).fit(tl, vl, false);
            }
        }
        assertThat(Files.readString(a.resolve("metrics.csv"))).isEqualTo(Files.readString(b.resolve("metrics.csv")));
        assertThat(Files.readAllLines(a.resolve("metrics.csv"))).hasSizeGreaterThan(5);
    }

    @Test
    void resumeAfterCrashMidEpochEndsLikeAnUninterruptedRun(@TempDir Path full, @TempDir Path crashed) throws Exception {
        resumeEndsLikeAnUninterruptedRun(full, crashed);
    }

    @Test
    void resumeWithMixupAndCutMixEndsLikeAnUninterruptedRun(@TempDir Path full, @TempDir Path crashed) throws Exception {
        mix = Mixup.of(0.8, 1.0); // their draws come from the loop's checkpointed generator
        resumeEndsLikeAnUninterruptedRun(full, crashed);
    }

    /** The moving average is checkpointed with the optimizer: validation (with it) and the weights resume exactly. */
    @Test
    void resumeWithEmaEndsLikeAnUninterruptedRun(@TempDir Path full, @TempDir Path crashed) throws Exception {
        ema = 0.9;
        resumeEndsLikeAnUninterruptedRun(full, crashed);
        Checkpoint a = Checkpoint.load(full.resolve(TrainingLoop.LAST)), b = Checkpoint.load(crashed.resolve(TrainingLoop.LAST));
        assertSameState(a.weights(), b.weights());
    }

    /** With --ema, validation and the test pass see the moving average; training goes on with the trained weights. */
    @Test
    void emaIsWhatValidationAndTheTestPassSee(@TempDir Path run) throws Exception {
        ema = 0.9;
        TrainingLoop<Batch> loop = trainer(run, 1, quiet());
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            loop.fit(tl, vl, false);
        }
        Checkpoint last = Checkpoint.load(run.resolve(TrainingLoop.LAST));
        assertThat(last.optimizer()).containsKey("ema.mlp.w2");
        // after the fit the module holds the trained weights, not the average
        assertSameState(model(loop).stateDict(), last.model());
        assertThat(last.weights().get("mlp.w2").toFloatArray()).isNotEqualTo(last.model().get("mlp.w2").toFloatArray());
        // the epoch's validation loss is the average's: a fresh model with the checkpoint's evaluation weights gives it
        var fresh = new Fixtures.TinyMlp(64, 32, 4, 0.1, new Random4j(SEED));
        fresh.loadStateDict(last.weights(), true);
        double valLoss;
        try (var vl = Fixtures.loader(val, 64, false, 0)) {
            valLoss = ImageClassificationTask.evaluate(fresh, vl, 4, 0, Device.CPU, null).loss();
        }
        double logged = MetricsLog.read(run).stream().filter(r -> r.kind().equals(MetricsRow.EPOCH)).findFirst().orElseThrow().valLoss();
        assertThat(logged).isCloseTo(valLoss, org.assertj.core.data.Offset.offset(1e-6));
    }

    private void resumeEndsLikeAnUninterruptedRun(Path full, Path crashed) throws Exception {
        TrainingLoop<Batch> uninterrupted = trainer(full, 3, quiet());
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            uninterrupted.fit(tl, vl, false);
        }

        // Process 1 dies at step 5 of epoch 2 (step 21 overall), after epoch 1's checkpoint.
        TrainingLoop<Batch> first = trainer(crashed, 3, quiet());
        first.addCallback(new Callback() {
            @Override
            public void onStepEnd(TrainingLoop<?> t, long step, double loss) {
                if (step == 21) throw new IllegalStateException("simulated kill");
            }
        });
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            assertThatThrownBy(() -> first.fit(tl, vl, false)).hasMessage("simulated kill");
        }
        assertThat(Checkpoint.load(crashed.resolve(TrainingLoop.LAST)).epoch()).isEqualTo(1);
        assertThat(MetricsLog.read(crashed).stream().anyMatch(r -> r.epoch() == 2)).isTrue(); // steps of the lost epoch

        // Process 2 starts from scratch (fresh model, optimizer, RNG) and resumes.
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        TrainingLoop<Batch> second = trainer(crashed, 3, new PrintStream(said));
        FitResult r;
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            r = second.fit(tl, vl, true);
        }
        assertThat(said.toString()).contains("resuming from").contains("epoch 1 done");
        assertThat(r.epochs()).extracting(EpochResult::epoch).containsExactly(2, 3);
        assertThat(Files.readString(crashed.resolve("metrics.csv"))).isEqualTo(Files.readString(full.resolve("metrics.csv")));
        assertSameState(model(uninterrupted).stateDict(), model(second).stateDict());
    }

    @Test
    void resumeWithoutCheckpointStartsFresh(@TempDir Path run) {
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        try (var tl = Fixtures.loader(train, 32, true, SEED)) {
            FitResult r = trainer(run, 1, new PrintStream(said)).fit(tl, null, true);
            assertThat(r.epochs()).hasSize(1);
        }
        assertThat(said.toString()).contains("starting from scratch");
    }

    @Test
    void testPassPrintsConfusionMatrixAndPerClassTable(@TempDir Path run) throws Exception {
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        TrainingLoop<Batch> t = trainer(run, 2, new PrintStream(said));
        Evaluation e;
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0);
             var test = Fixtures.loader(Fixtures.quadrants(200, 3), 64, false, 0)) {
            t.fit(tl, vl, false);
            e = ((ImageClassificationTask) t.task()).test(t, test, Fixtures.CLASSES);
        }
        String text = said.toString();
        assertThat(text).contains("confusion matrix").contains("macro avg").contains("weighted avg")
                .contains("bottom-right").contains(String.format(java.util.Locale.ROOT, "test accuracy %.2f%%", 100 * e.accuracy()));
        assertThat(e.confusion().total()).isEqualTo(200);
        assertThat(run.resolve("test_report.txt")).isRegularFile();
        assertThat(Files.size(run.resolve(Plots.CONFUSION))).isGreaterThan(5_000);
        MetricsRow last = MetricsLog.read(run).getLast();
        assertThat(last.kind()).isEqualTo("test");
        assertThat(last.testAcc()).isEqualTo(e.accuracy());
        // test_predictions.csv: one row per test image, in order, its labels the data set's; the accuracy counted from it
        // is the reported one, and each probability is that of the predicted class (the largest, so at least 1/classes)
        List<String> rows = Files.readAllLines(run.resolve(ImageClassificationTask.PREDICTIONS));
        assertThat(rows.getFirst()).isEqualTo("index,label,predicted,probability,label_name,predicted_name");
        assertThat(rows).hasSize(201);
        var testSet = Fixtures.quadrants(200, 3);
        long[] labels = java.util.stream.IntStream.range(0, 200).mapToLong(i -> testSet.get(i).label()).toArray();
        int right = 0;
        for (int i = 1; i <= 200; i++) {
            String[] c = rows.get(i).split(",");
            assertThat(Integer.parseInt(c[0])).isEqualTo(i - 1);
            assertThat(Long.parseLong(c[1])).isEqualTo(labels[i - 1]);
            assertThat(c[4]).isEqualTo(Fixtures.CLASSES.get((int) labels[i - 1]));
            assertThat(Float.parseFloat(c[3])).isBetween(1f / Fixtures.CLASSES.size(), 1f);
            if (c[1].equals(c[2])) right++;
        }
        assertThat(right / 200.0).isEqualTo(e.accuracy());
    }

    static Map<String, Tensor> copy(Map<String, Tensor> state) {
        Map<String, Tensor> c = new java.util.LinkedHashMap<>();
        state.forEach((k, v) -> c.put(k, Tensor.of(v.toFloatArray(), v.shape())));
        return c;
    }

    static void assertSameState(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((k, v) -> assertThat(b.get(k).toFloatArray()).as(k).containsExactly(v.toFloatArray()));
    }
}
