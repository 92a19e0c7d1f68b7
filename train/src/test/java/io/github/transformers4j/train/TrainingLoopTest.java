package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.vision.ImageClassificationDataset;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop over a toy task (no models module): accumulation, evaluation and checkpoints every N steps, resume, events. */
class TrainingLoopTest {
    static final long SEED = 7;
    final ImageClassificationDataset train = Fixtures.quadrants(512, 1), val = Fixtures.quadrants(128, 2);

    /** What a (re)started process builds: a fresh model, optimizer and loop; {@code steps} optimizer steps per epoch. */
    static TrainingLoop<io.github.transformers4j.data.vision.Batch> loop(Path run, TrainingLoop.Config c, double dropout, long steps,
                                                                       PrintStream out) {
        Random4j rng = new Random4j(SEED);
        var model = new Fixtures.TinyMlp(64, 32, 4, dropout, rng);
        Optimization opt = Optimizers.create(model, "adamw", 0.01, 0.01, "cosine", 5, steps * c.epochs(), 1.0);
        return new TrainingLoop<>(new Fixtures.ToyTask(model), opt, rng, run, c, out);
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    static TrainingLoop.Config.Builder config(int epochs) {
        return TrainingLoop.Config.builder().epochs(epochs).logEvery(3).plots(false);
    }

    @Test
    void twoAccumulatedHalfBatchesMakeTheStepOfOneFullBatch(@TempDir Path full, @TempDir Path accumulated) {
        var a = loop(full, config(1).build(), 0, 16, quiet());
        var b = loop(accumulated, config(1).gradientAccumulation(2).build(), 0, 16, quiet());
        FitResult ra, rb;
        try (var l32 = Fixtures.loader(train, 32, true, SEED); var l16 = Fixtures.loader(train, 16, true, SEED)) {
            ra = a.fit(l32, null, false);
            rb = b.fit(l16, null, false); // the same permutation, cut in halves: batch k of 32 = micro-batches 2k, 2k+1
        }
        assertThat(b.globalStep()).isEqualTo(a.globalStep()).isEqualTo(16);
        Map<String, Tensor> wa = a.module().stateDict(), wb = b.module().stateDict();
        for (String k : wa.keySet()) {
            float[] x = wa.get(k).toFloatArray(), y = wb.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) assertThat(y[i]).as(k + "[" + i + "]").isCloseTo(x[i], Offset.offset(2e-5f));
        }
        assertThat(rb.epochs().getFirst().trainLoss()).isCloseTo(ra.epochs().getFirst().trainLoss(), Offset.offset(1e-6));
        assertThat(rb.epochs().getFirst().trainAcc()).isEqualTo(ra.epochs().getFirst().trainAcc());
    }

    @Test
    void evalStepsAddEvalRowsBetweenEpochs(@TempDir Path run) {
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            loop(run, config(2).evalSteps(4).build(), 0.1, 16, quiet()).fit(tl, vl, false);
        }
        List<MetricsRow> rows = MetricsLog.read(run);
        // 16 steps per epoch: evaluations at 4, 8, 12, (16 is the epoch's end), 20, 24, 28, (32)
        assertThat(rows.stream().filter(r -> r.kind().equals(MetricsRow.EVAL)).map(MetricsRow::step)).containsExactly(4L, 8L, 12L, 20L, 24L, 28L);
        assertThat(rows.stream().filter(r -> r.kind().equals(MetricsRow.EVAL))).allSatisfy(r -> {
            assertThat(r.valLoss()).isFinite();
            assertThat(r.valAcc()).isBetween(0.0, 1.0);
        });
        assertThat(rows.stream().filter(r -> r.kind().equals(MetricsRow.EPOCH))).hasSize(2);
    }

    @Test
    void saveStepsKeepTheNewestSnapshotsOnly(@TempDir Path run) throws Exception {
        try (var tl = Fixtures.loader(train, 32, true, SEED)) {
            loop(run, config(2).saveSteps(3).saveTotalLimit(2).build(), 0, 16, quiet()).fit(tl, null, false);
        }
        List<String> names;
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        // snapshots at 3, 6, ..., 30 (not at 48 = the end): the newest two stay, beside last and best
        assertThat(names).containsExactly("best.safetensors", "last.safetensors", "step-27.safetensors", "step-30.safetensors");
        Checkpoint s30 = Checkpoint.load(run.resolve("checkpoints/step-30.safetensors"));
        assertThat(s30.globalStep()).isEqualTo(30);
        assertThat(s30.meta("epoch_done")).isEqualTo("false");
        assertThat(s30.meta("batches_done")).isEqualTo("14");
    }

    @Test
    void aRunResumedFromAMidEpochCheckpointEndsBitForBitLikeAnUninterruptedOne(@TempDir Path full, @TempDir Path crashed) throws Exception {
        TrainingLoop.Config c = config(3).saveSteps(5).gradientAccumulation(2).build(); // 8 steps of 2 x 32 per epoch
        var uninterrupted = loop(full, c, 0.1, 8, quiet());
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            uninterrupted.fit(tl, vl, false);
        }
        // process 1 dies at step 13, three steps after its checkpoint at step 10 (epoch 2, micro-batch 4 of 16)
        var first = loop(crashed, c, 0.1, 8, quiet()).addCallback(new Callback() {
            @Override
            public void onStepEnd(TrainingLoop<?> loop, long step, double loss) {
                if (step == 13) throw new IllegalStateException("simulated kill");
            }
        });
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            assertThatThrownBy(() -> first.fit(tl, vl, false)).hasMessage("simulated kill");
        }
        Checkpoint ck = Checkpoint.load(crashed.resolve(TrainingLoop.LAST));
        assertThat(ck.globalStep()).isEqualTo(10);
        assertThat(ck.meta("batches_done")).isEqualTo("4");
        assertThat(MetricsLog.read(crashed).getLast().step()).isEqualTo(11); // rows past the checkpoint: dropped on resume

        ByteArrayOutputStream said = new ByteArrayOutputStream();
        var second = loop(crashed, c, 0.1, 8, new PrintStream(said));
        FitResult r;
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            r = second.fit(tl, vl, true);
        }
        assertThat(said.toString()).contains("resuming from").contains("epoch 2 at batch 4, step 10");
        assertThat(r.epochs()).extracting(EpochResult::epoch).containsExactly(2, 3);
        assertThat(Files.readString(crashed.resolve("metrics.csv"))).isEqualTo(Files.readString(full.resolve("metrics.csv")));
        Map<String, Tensor> a = uninterrupted.module().stateDict(), b = second.module().stateDict();
        for (String k : a.keySet()) assertThat(b.get(k).toFloatArray()).as(k).containsExactly(a.get(k).toFloatArray());
    }

    @Test
    void callbacksSeeHuggingFacesEventsInOrder(@TempDir Path run) {
        List<String> events = new ArrayList<>();
        var model = new Fixtures.TinyMlp(64, 8, 4, 0, new Random4j(1));
        var l = TrainingLoop.bare(new Fixtures.ToyTask(model), Optimizers.create(model, "sgd", 0.1, 0, "constant", 0, 4, 0), new Random4j(1), run, config(1).logEvery(2).evalSteps(1).build(), quiet());
        l.addCallback(new Callback() {
            @Override public void onTrainBegin(TrainingLoop<?> loop) { events.add("train_begin"); }
            @Override public void onEpochBegin(TrainingLoop<?> loop, int epoch) { events.add("epoch_begin " + epoch); }
            @Override public void onStepBegin(TrainingLoop<?> loop, long step) { events.add("step_begin " + step); }
            @Override public void onPreOptimizerStep(TrainingLoop<?> loop, long step) { events.add("pre_optimizer " + step); }
            @Override public void onStepEnd(TrainingLoop<?> loop, long step, double loss) { events.add("step_end " + step); }
            @Override public void onLog(TrainingLoop<?> loop, MetricsRow row, Map<String, Object> extra) { events.add("log " + row.kind() + " " + row.step()); }
            @Override public void onEvaluate(TrainingLoop<?> loop, Evaluated e) { events.add("evaluate " + e.step()); }
            @Override public void onEpochEnd(TrainingLoop<?> loop, EpochResult r) { events.add("epoch_end " + r.epoch()); }
            @Override public void onTrainEnd(TrainingLoop<?> loop, FitResult r) { events.add("train_end"); }
        });
        try (var tl = Fixtures.loader(Fixtures.quadrants(64, 1), 32, false, 0); var vl = Fixtures.loader(val, 64, false, 0)) {
            l.fit(tl, vl, false);
        }
        assertThat(events).containsExactly("train_begin", "epoch_begin 1",
                "step_begin 1", "pre_optimizer 1", "evaluate 1", "log eval 1", "step_end 1",
                "step_begin 2", "pre_optimizer 2", "log step 2", "step_end 2",
                "evaluate 2", "log epoch 2", "epoch_end 1", "train_end");
        assertThat(run.resolve("metrics.csv")).doesNotExist(); // a bare loop writes no metrics files
    }

    /** The step a GPU captures (fixed inputs, sums on the device, read every row), run eagerly on the CPU. */
    @Test
    void theCapturableStepTrainsLikeTheEagerStep(@TempDir Path eagerRun, @TempDir Path capturableRun) {
        var e = loop(eagerRun, config(2).logEvery(4).build(), 0.1, 16, quiet());
        var t = loop(capturableRun, config(2).logEvery(4).build(), 0.1, 16, quiet()).capturableStepsOnCpu(true);
        FitResult eager, capturable;
        try (var tl = Fixtures.loader(train, 32, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            eager = e.fit(tl, vl, false);
            capturable = t.fit(tl, vl, false);
        }
        Map<String, Tensor> we = e.module().stateDict(), wc = t.module().stateDict();
        for (String k : we.keySet()) assertThat(wc.get(k).toFloatArray()).as(k).containsExactly(we.get(k).toFloatArray());
        for (int i = 0; i < 2; i++) {
            EpochResult a = eager.epochs().get(i), b = capturable.epochs().get(i);
            assertThat(b.trainLoss()).isCloseTo(a.trainLoss(), Offset.offset(1e-6));
            assertThat(b.trainAcc()).isEqualTo(a.trainAcc());
            assertThat(b.valLoss()).isEqualTo(a.valLoss());
        }
        assertThat(MetricsLog.read(capturableRun).stream().filter(x -> x.kind().equals("step"))).hasSize(8);
        // the mean gradient norm (before clipping) of each row's steps: read once per row from the device sums there
        List<Double> ne = gradNorms(eagerRun), nc = gradNorms(capturableRun);
        assertThat(ne).hasSize(8).allSatisfy(n -> assertThat(n).isPositive());
        for (int i = 0; i < 8; i++) assertThat(nc.get(i)).isCloseTo(ne.get(i), Offset.offset(1e-9 * ne.get(i)));
    }

    static List<Double> gradNorms(Path run) {
        try {
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            List<Double> out = new ArrayList<>();
            for (String line : Files.readAllLines(run.resolve(MetricsLog.JSONL))) {
                var n = json.readTree(line);
                if (n.get("kind").asText().equals("step")) out.add(n.get("grad_norm").asDouble());
            }
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void earlyStoppingCountsEvaluationsWithoutImprovement(@TempDir Path run) {
        Random4j rng = new Random4j(SEED);
        var model = new Fixtures.TinyMlp(64, 32, 4, 0.0, rng);
        Optimization opt = Optimizers.create(model, "sgd", 0.0, 0.0, "constant", 0, 80, 0); // lr 0: val loss never improves
        var l = new TrainingLoop<>(new Fixtures.ToyTask(model), opt, rng, run, config(10).patience(2).build(), quiet());
        FitResult r;
        try (var tl = Fixtures.loader(train, 64, true, SEED); var vl = Fixtures.loader(val, 64, false, 0)) {
            r = l.fit(tl, vl, false);
        }
        assertThat(r.stoppedEarly()).isTrue();
        assertThat(r.lastEpoch()).isEqualTo(3);
        assertThat(r.bestEpoch()).isEqualTo(1);
        assertThat(Checkpoint.load(run.resolve(TrainingLoop.BEST)).epoch()).isEqualTo(1);
        assertThat(Checkpoint.load(run.resolve(TrainingLoop.LAST)).epoch()).isEqualTo(3);
    }

    @Test
    void badConfigurationsNameTheOption() {
        assertThatThrownBy(() -> config(1).gradientAccumulation(0).build()).hasMessageContaining("gradient accumulation");
        assertThatThrownBy(() -> config(1).monitor("val_rouge", EarlyStopping.Mode.MAX).build()).hasMessageContaining("val_rouge");
        assertThatThrownBy(() -> config(1).saveTotalLimit(-2).build()).hasMessageContaining("saveTotalLimit");
    }
}
