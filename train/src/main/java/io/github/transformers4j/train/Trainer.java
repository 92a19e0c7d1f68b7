package io.github.transformers4j.train;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Trains an image classifier and keeps a run folder:
 * <pre>
 * RUN/config.json                  the run's configuration (written by the caller, copied into checkpoints)
 * RUN/metrics.csv, metrics.jsonl   per-step and per-epoch rows ({@link MetricsLog})
 * RUN/train.log                    the summary lines printed during training
 * RUN/checkpoints/last.safetensors after every epoch; best.safetensors when the monitored metric improves
 * RUN/loss.png, accuracy.png, confusion_matrix.png, test_report.txt
 * </pre>
 * The two stages stay apart: {@linkplain #fit training} runs the model in train mode, records gradients and
 * updates; {@linkplain #evaluate evaluation} runs it in eval mode under {@link Grad#disabled()} and never updates.
 * Each step runs in a {@link Memory#scope()}, so its temporaries are freed when it ends.
 *
 * <p>Determinism and resume: the data order of epoch {@code e} depends only on (seed, e) (the loader's contract),
 * the model's random numbers come from a counter-based {@link Random4j} whose counter is checkpointed, and
 * metrics.csv holds no wall-clock values. So a run resumed from its last completed epoch ends with the same
 * metrics.csv as an uninterrupted one.
 */
public final class Trainer extends TrainingLoop<Batch> {
    /**
     * @param epochs     total epochs of the run (a resumed run continues up to this number)
     * @param logEvery   a step row in metrics.csv every this many steps (mean loss of those steps)
     * @param progress   whether to draw a progress bar per epoch (on stderr)
     * @param monitor    metric for the best checkpoint and early stopping: val_loss, val_acc, train_loss, train_acc
     * @param mode       MIN or MAX for the monitored metric
     * @param patience   epochs without improvement before stopping; 0 never stops early
     */
    public record Config(int epochs, int logEvery, boolean progress, String monitor, EarlyStopping.Mode mode, int patience) {
        public Config {
            if (epochs <= 0) throw new IllegalArgumentException("Trainer: epochs must be positive, got " + epochs);
            if (logEvery <= 0) throw new IllegalArgumentException("Trainer: logEvery must be positive, got " + logEvery);
            if (patience < 0) throw new IllegalArgumentException("Trainer: patience must be >= 0, got " + patience);
        }

        public static Config of(int epochs) {
            return new Config(epochs, 10, false, "val_loss", EarlyStopping.Mode.MIN, 0);
        }

        public Config withProgress(boolean on) {
            return new Config(epochs, logEvery, on, monitor, mode, patience);
        }

        public Config withMonitor(String metric, EarlyStopping.Mode m, int patience) {
            return new Config(epochs, logEvery, progress, metric, m, patience);
        }

        public Config withLogEvery(int n) {
            return new Config(epochs, n, progress, monitor, mode, patience);
        }
    }

    private final ImageClassifier model;
    private final String configJson;
    private final List<Callback> callbacks = new ArrayList<>();

    /**
     * @param rng        the generator the model draws from (dropout); its counter is checkpointed
     * @param configJson the run configuration stored in checkpoints (normally config.json's text)
     * @param out        where summary lines go (also appended to RUN/train.log)
     */
    public Trainer(ImageClassifier model, Optimization optimization, Random4j rng, Path runDir, Config config,
                   String configJson, PrintStream out) {
        super(model, optimization, rng, runDir, config, out);
        this.model = model;
        this.configJson = configJson;
    }

    /** Runs on {@code device} (the model must already be there); batches are moved to it. */
    public Trainer onDevice(Device d) {
        setDevice(d);
        return this;
    }

    /** Mixed precision for the forward pass and loss ({@link Autocast}; null = fp32); the backward and the optimizer run outside it. */
    public Trainer precision(DType autocast) {
        setAutocast(autocast);
        return this;
    }

    /** Stops before an epoch that would end past this many seconds of {@link #fit} (0 = no limit). */
    public Trainer timeLimit(double seconds) {
        setTimeLimit(seconds);
        return this;
    }

    /** Whether steps on a GPU are captured into CUDA graphs (default true; {@code t4j train --no-cuda-graphs} turns it off). */
    public Trainer cudaGraphs(boolean on) {
        setCudaGraphs(on);
        return this;
    }

    public Trainer addCallback(Callback c) {
        callbacks.add(c);
        return this;
    }

    public ImageClassifier model() { return model; }

    // ------------------------------------------------------------------------------------------------ training

    private int lastBatchSize;

    @Override
    protected StepStats trainStep(Batch batch) {
        // the last, smaller batch of an epoch needs blocks of other sizes: free the pooled ones of the full batches first
        if (lastBatchSize != 0 && batch.size() != lastBatchSize) io.github.transformers4j.tensor.Backends.of(device).emptyCache();
        lastBatchSize = batch.size();
        optimization.zeroGrad();
        Tensor labels = batch.labels().to(device), logits, loss;
        try (var ac = Autocast.enable(autocast)) {
            logits = model.forward(batch.images().to(device));
            loss = Losses.crossEntropy(logits, labels);
        }
        loss.backward();
        optimization.step(globalStep);
        return new StepStats(loss.item(), Losses.correct(logits, labels), batch.size(), batch.size());
    }

    @Override
    protected CapturableStep<Batch> capturable() {
        return new CapturableStep<>() {
            @Override
            public Tensor[] inputs(Batch b) {
                return new Tensor[] {b.images(), b.labels()};
            }

            @Override
            public long[] counts(Batch b) {
                return new long[] {b.size(), b.size()};
            }

            @Override
            public Runnable step(Tensor[] in, Tensor acc) {
                int n = in[1].size(0);
                return () -> {
                    try (var scope = Memory.scope()) {
                        optimization.zeroGrad();
                        Tensor logits, loss;
                        try (var ac = Autocast.enable(autocast)) {
                            logits = model.forward(in[0]);
                            loss = Losses.crossEntropy(logits, in[1]);
                        }
                        loss.backward();
                        optimization.step(globalStep);
                        try (var g = Grad.disabled()) {
                            Tensor hit = logits.detach().argmax(1, false).eq(in[1]).to(DType.F64).sum().reshape(1);
                            acc.narrow(0, 0, 1).add_(loss.detach().to(DType.F64).mul((double) n).reshape(1), 1);
                            acc.narrow(0, 1, 1).add_(hit, 1);
                        }
                    }
                };
            }
        };
    }

    @Override
    protected ValStats validate(DataLoader<?, Batch> val, int epoch) {
        Evaluation v = evaluate(model, val, model.numClasses(), epoch, device, config.progress() ? "validate" : null);
        return new ValStats(v.loss(), v.accuracy(), Map.of("val_images_per_s", v.imagesPerSecond()));
    }

    @Override
    protected Map<String, String> checkpointMeta() {
        return Map.of("config", configJson);
    }

    @Override
    protected String accuracyName() { return "acc"; }

    @Override
    protected String throughputUnit() { return "img/s"; }

    @Override
    protected String throughputKey() { return "images_per_s"; }

    @Override
    protected void onFitStart(int firstEpoch) {
        for (Callback c : callbacks) c.onFitStart(this, firstEpoch);
    }

    @Override
    protected void onStepEnd(int epoch, long step, double loss) {
        for (Callback c : callbacks) c.onStepEnd(this, epoch, step, loss);
    }

    @Override
    protected void onEpochEnd(EpochResult r) {
        for (Callback c : callbacks) c.onEpochEnd(this, r);
    }

    @Override
    protected void onFitEnd(FitResult r) {
        for (Callback c : callbacks) c.onFitEnd(this, r);
    }

    // ---------------------------------------------------------------------------------------------- evaluation

    /** Loss, accuracy and confusion matrix over {@code loader}, in eval mode without gradients. */
    public Evaluation evaluate(DataLoader<?, Batch> loader, int numClasses, int epochForOrder) {
        return evaluate(model, loader, numClasses, epochForOrder, device);
    }

    public static Evaluation evaluate(ImageClassifier model, DataLoader<?, Batch> loader, int numClasses, int epochForOrder) {
        return evaluate(model, loader, numClasses, epochForOrder, Device.CPU);
    }

    /** Evaluates any classifier (in eval mode, under {@link Grad#disabled()}); restores its previous mode. */
    public static Evaluation evaluate(ImageClassifier model, DataLoader<?, Batch> loader, int numClasses, int epochForOrder,
                                      Device device) {
        return evaluate(model, loader, numClasses, epochForOrder, device, null);
    }

    /** As above, with a progress bar named {@code task} on a terminal (null: none). */
    public static Evaluation evaluate(ImageClassifier model, DataLoader<?, Batch> loader, int numClasses, int epochForOrder,
                                      Device device, String task) {
        long t0 = System.nanoTime();
        boolean wasTraining = model.isTraining();
        model.eval();
        ConfusionMatrix cm = new ConfusionMatrix(numClasses);
        double lossSum = 0;
        long n = 0;
        java.util.stream.LongStream.Builder labels = java.util.stream.LongStream.builder(), predicted = java.util.stream.LongStream.builder();
        List<float[]> probs = new java.util.ArrayList<>();
        try (var g = Grad.disabled(); Progress bar = Progress.start(task != null, task, loader.numBatches(), System.err)) {
            for (Batch batch : loader.epoch(epochForOrder)) {
                try (var scope = Memory.scope(); batch) {
                    Tensor logits = model.forward(batch.images().to(device));
                    lossSum += Losses.crossEntropy(logits, batch.labels().to(device)).item() * batch.size();
                    long[] y = batch.labels().toLongArray(), p = logits.argmax(1, false).toLongArray();
                    cm.addAll(y, p);
                    probs.add(logits.to(DType.F32).softmax(-1).max(1, false).toFloatArray());
                    for (int i = 0; i < y.length; i++) {
                        labels.add(y[i]);
                        predicted.add(p[i]);
                    }
                    n += batch.size();
                }
                bar.step();
            }
        } finally {
            model.train(wasTraining);
        }
        float[] probability = new float[(int) n];
        int at = 0;
        for (float[] b : probs) {
            System.arraycopy(b, 0, probability, at, b.length);
            at += b.length;
        }
        return new Evaluation(n == 0 ? Double.NaN : lossSum / n, cm.accuracy(), cm, n, (System.nanoTime() - t0) / 1e9,
                labels.build().toArray(), predicted.build().toArray(), probability);
    }

    /** The test pass's per-image predictions in the run folder ({@link Evaluation#predictionsCsv}). */
    public static final String PREDICTIONS = "test_predictions.csv";

    /**
     * The test pass after training: loads the best checkpoint's weights (the last epoch's when there is none),
     * evaluates, prints the confusion matrix and per-class table, writes test_report.txt, test_predictions.csv and
     * confusion_matrix.png, and adds a test row to the metrics.
     */
    public Evaluation test(DataLoader<?, Batch> test, List<String> classNames) {
        Path best = runDir.resolve(BEST);
        int epoch;
        String which;
        if (Files.isRegularFile(best)) {
            Checkpoint ck = Checkpoint.load(best);
            model.loadStateDict(ck.model(), true);
            epoch = ck.epoch();
            which = "best checkpoint (epoch " + epoch + ", by " + ck.meta("monitor") + ")";
        } else {
            epoch = (int) Math.max(0, MetricsLog.read(runDir).stream().mapToInt(MetricsRow::epoch).max().orElse(0));
            which = "final weights";
        }
        io.github.transformers4j.tensor.Backends.of(device).emptyCache();
        Evaluation e = evaluate(model, test, model.numClasses(), 0, device, config.progress() ? "test" : null);
        String report = testReport(e, classNames, which);
        say(report);
        try {
            AtomicFiles.writeString(runDir.resolve("test_report.txt"), report + "\n");
            AtomicFiles.writeString(runDir.resolve(PREDICTIONS), e.predictionsCsv(classNames));
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write the test report: " + ex.getMessage(), ex);
        }
        try {
            Plots.confusionMatrix(e.confusion(), classNames, runDir.resolve(Plots.CONFUSION),
                    String.format(Locale.ROOT, "Confusion matrix - test, accuracy %.2f%%", 100 * e.accuracy()));
        } catch (RuntimeException | Error ex) {
            say("warning: plots not written: " + ex);
        }
        try (MetricsLog log = MetricsLog.appendTo(runDir)) {
            log.log(MetricsRow.test(epoch, globalStep, e.loss(), e.accuracy()),
                    Map.of("time", now(), "test_time_s", round(e.seconds()), "images_per_s", round(e.imagesPerSecond()),
                            "checkpoint", which));
            log.image("test/confusion_matrix", globalStep, runDir.resolve(Plots.CONFUSION));
            log.text("test/report", globalStep, "```\n" + report + "\n```");
        }
        try {
            Plots.writeRunPlots(runDir);
        } catch (RuntimeException | Error ex) {
            say("warning: plots not written: " + ex);
        }
        return e;
    }

    /** The text printed after a test pass: accuracy line, confusion matrix, per-class table. */
    public static String testReport(Evaluation e, List<String> classNames, String which) {
        return testReport(e, classNames, which, "test");
    }

    /** The same report for another split ("val", "train"): its lines are labelled with the split's name. */
    public static String testReport(Evaluation e, List<String> classNames, String which, String split) {
        return String.format(Locale.ROOT, "%s: %s%n%s loss %.4f  %s accuracy %.2f%% (%d/%d)  %.1f s, %.0f img/s%n%n"
                        + "confusion matrix (rows: true class, columns: predicted class)%n%s%n%s",
                split, which, split, e.loss(), split, 100 * e.accuracy(), e.confusion().correct(), e.samples(), e.seconds(), e.imagesPerSecond(),
                e.confusion().format(classNames), e.confusion().report(classNames).format());
    }

    /** Cross-entropy and accuracy counting on logits (B, C) and int64 labels (B,). */
    static final class Losses {
        private Losses() {}

        static Tensor crossEntropy(Tensor logits, Tensor labels) {
            return logits.logSoftmax(1).gather(1, labels.unsqueeze(1)).mean().neg();
        }

        static long correct(Tensor logits, Tensor labels) {
            try (var g = Grad.disabled()) {
                return (long) logits.detach().argmax(1, false).eq(labels).to(DType.F64).sum().item();
            }
        }
    }
}
