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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
public final class Trainer {
    public static final String LAST = "checkpoints/last.safetensors", BEST = "checkpoints/best.safetensors";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

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
    private final Optimization optimization;
    private final Random4j rng;
    private final Path runDir;
    private final Config config;
    private final String configJson;
    private final PrintStream out;
    private final List<Callback> callbacks = new ArrayList<>();
    private long globalStep;
    private volatile boolean stopRequested;
    private Device device = Device.CPU;
    private DType autocast;

    /**
     * @param rng        the generator the model draws from (dropout); its counter is checkpointed
     * @param configJson the run configuration stored in checkpoints (normally config.json's text)
     * @param out        where summary lines go (also appended to RUN/train.log)
     */
    public Trainer(ImageClassifier model, Optimization optimization, Random4j rng, Path runDir, Config config,
                   String configJson, PrintStream out) {
        this.model = model;
        this.optimization = optimization;
        this.rng = rng;
        this.runDir = runDir;
        this.config = config;
        this.configJson = configJson;
        this.out = out;
    }

    /** Mixed precision for the forward pass and loss ({@link Autocast}; null = fp32); the backward and the optimizer run outside it. */
    public Trainer precision(DType autocast) {
        this.autocast = autocast;
        return this;
    }

    /** Runs on {@code device} (the model must already be there); batches are moved to it. */
    public Trainer onDevice(Device d) {
        this.device = d;
        return this;
    }

    public Trainer addCallback(Callback c) {
        callbacks.add(c);
        return this;
    }

    public ImageClassifier model() { return model; }
    public Path runDir() { return runDir; }
    public Config config() { return config; }
    public long globalStep() { return globalStep; }

    /** Asks {@link #fit} to stop after the current epoch (from a callback). */
    public void requestStop() {
        stopRequested = true;
    }

    // ------------------------------------------------------------------------------------------------ training

    /**
     * Trains for the configured epochs. With {@code resume} and a {@code last} checkpoint in the run folder, the
     * model, optimizer, schedule, RNG and early-stopping state are restored and training continues with the epoch
     * after the last completed one. {@code val} may be null (then the monitor falls back to training metrics).
     */
    public FitResult fit(DataLoader<?, Batch> train, DataLoader<?, Batch> val, boolean resume) {
        long fitStart = System.nanoTime();
        String monitor = val == null && config.monitor().startsWith("val_") ? config.monitor().replace("val_", "train_") : config.monitor();
        EarlyStopping early = new EarlyStopping(monitor, config.mode(), config.patience(), 0);
        int firstEpoch = 1;
        globalStep = 0;
        Path last = runDir.resolve(LAST);
        MetricsLog log;
        if (resume && Files.isRegularFile(last)) {
            Checkpoint ck = Checkpoint.load(last);
            restore(ck, early);
            firstEpoch = ck.epoch() + 1;
            log = MetricsLog.resume(runDir, ck.epoch());
            say(String.format(Locale.ROOT, "resuming from %s: epoch %d done, step %d", last, ck.epoch(), globalStep));
        } else {
            if (resume) say("no checkpoint at " + last + ": starting from scratch");
            log = MetricsLog.create(runDir);
        }
        for (Callback c : callbacks) c.onFitStart(this, firstEpoch);
        List<EpochResult> results = new ArrayList<>();
        int epoch = firstEpoch;
        boolean stoppedEarly = false;
        try (log) {
            for (; epoch <= config.epochs() && !stopRequested; epoch++) {
                EpochResult r = runEpoch(epoch, train, val, log, early);
                results.add(r);
                for (Callback c : callbacks) c.onEpochEnd(this, r);
                if (early.shouldStop() && epoch < config.epochs()) {
                    say(String.format(Locale.ROOT, "early stop: %s has not improved for %d epochs (best %.4f at epoch %d)",
                            monitor, early.badEpochs(), early.best(), early.bestEpoch()));
                    stoppedEarly = true;
                    epoch++;
                    break;
                }
            }
        }
        FitResult fr = new FitResult(List.copyOf(results), epoch - 1, early.bestEpoch(), early.best(), stoppedEarly,
                (System.nanoTime() - fitStart) / 1e9);
        callbacks.forEach(c -> c.onFitEnd(this, fr));
        return fr;
    }

    private EpochResult runEpoch(int epoch, DataLoader<?, Batch> train, DataLoader<?, Batch> val, MetricsLog log,
                                 EarlyStopping early) {
        long t0 = System.nanoTime();
        model.train();
        int steps = train.numBatches();
        double lossSum = 0, windowLoss = 0, lr = 0;
        long correct = 0, seen = 0;
        int windowSteps = 0, done = 0;
        try (Progress bar = Progress.start(config.progress(), String.format("epoch %d/%d", epoch, config.epochs()), steps, System.err)) {
            for (Batch batch : train.epoch(epoch)) {
                lr = optimization.lr(globalStep);
                double loss;
                long ok;
                try (var scope = Memory.scope(); batch) {
                    optimization.zeroGrad();
                    Tensor labels = batch.labels().to(device), logits, lossT;
                    try (var ac = Autocast.enable(autocast)) {
                        logits = model.forward(batch.images().to(device));
                        lossT = Losses.crossEntropy(logits, labels);
                    }
                    lossT.backward();
                    optimization.step(globalStep);
                    loss = lossT.item();
                    ok = Losses.correct(logits, labels);
                }
                if (!Double.isFinite(loss))
                    throw new IllegalStateException(String.format(Locale.ROOT, "training diverged: loss %s at epoch %d step %d (lr %.3g); "
                            + "try a lower --lr or a longer --warmup", loss, epoch, globalStep + 1, lr));
                int b = batch.size();
                globalStep++;
                done++;
                lossSum += loss * b;
                correct += ok;
                seen += b;
                windowLoss += loss;
                windowSteps++;
                if (windowSteps == config.logEvery() || done == steps) {
                    log.log(MetricsRow.step(epoch, globalStep, lr, windowLoss / windowSteps),
                            Map.of("time", now(), "elapsed_s", round((System.nanoTime() - t0) / 1e9)));
                    windowLoss = 0;
                    windowSteps = 0;
                }
                bar.step(lossSum / seen);
                for (Callback c : callbacks) c.onStepEnd(this, epoch, globalStep, loss);
            }
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        double trainLoss = seen == 0 ? Double.NaN : lossSum / seen, trainAcc = seen == 0 ? Double.NaN : (double) correct / seen;
        Evaluation v = val == null ? null : evaluate(model, val, model.numClasses(), epoch, device);
        double valLoss = v == null ? Double.NaN : v.loss(), valAcc = v == null ? Double.NaN : v.accuracy();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double ips = seen / trainSeconds;
        EpochResult partial = new EpochResult(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc, seconds, ips, false);
        boolean best = early.update(epoch, partial.get(early.monitor()));
        EpochResult r = new EpochResult(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc, seconds, ips, best);

        LinkedHashMap<String, Object> extra = new LinkedHashMap<>();
        extra.put("time", now());
        extra.put("epoch_time_s", round(seconds));
        extra.put("train_time_s", round(trainSeconds));
        extra.put("images_per_s", round(ips));
        if (v != null) extra.put("val_images_per_s", round(v.imagesPerSecond()));
        extra.put("best", best);
        log.log(MetricsRow.epoch(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc), extra);

        Checkpoint ck = checkpoint(epoch, early);
        if (best) ck.save(runDir.resolve(BEST));
        ck.save(runDir.resolve(LAST));
        say(summary(r));
        try {
            Plots.writeRunPlots(runDir);
        } catch (RuntimeException | Error e) {
            say("warning: plots not written: " + e);
        }
        return r;
    }

    private String summary(EpochResult r) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s epoch %d/%d  train loss %.4f acc %.2f%%",
                LocalDateTime.now().format(TIME), r.epoch(), config.epochs(), r.trainLoss(), 100 * r.trainAcc()));
        if (!Double.isNaN(r.valLoss())) sb.append(String.format(Locale.ROOT, "  val loss %.4f acc %.2f%%", r.valLoss(), 100 * r.valAcc()));
        sb.append(String.format(Locale.ROOT, "  %.1f s  %.0f img/s  lr %.3g", r.seconds(), r.imagesPerSecond(), r.lr()));
        if (r.best()) sb.append("  *best*");
        return sb.toString();
    }

    private Checkpoint checkpoint(int epoch, EarlyStopping early) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("epoch", String.valueOf(epoch));
        meta.put("global_step", String.valueOf(globalStep));
        meta.put("rng_seed", String.valueOf(rng.seed()));
        meta.put("rng_counter", String.valueOf(rng.counter()));
        meta.put("config", configJson);
        meta.put("optimizer", optimization.stateJson());
        meta.put("early_stopping", early.state());
        meta.put("monitor", early.monitor());
        return new Checkpoint(model.stateDict(), optimization.stateTensors(), meta);
    }

    private void restore(Checkpoint ck, EarlyStopping early) {
        model.loadStateDict(ck.model(), true);
        optimization.loadState(ck.optimizer(), ck.require("optimizer"));
        long seed = Long.parseLong(ck.require("rng_seed"));
        if (seed != rng.seed())
            throw new IllegalArgumentException("resume: the checkpoint's RNG seed " + seed + " differs from this run's "
                    + rng.seed() + "; resume with the same --seed");
        rng.setCounter(Long.parseLong(ck.require("rng_counter")));
        early.restore(ck.require("early_stopping"));
        globalStep = ck.globalStep();
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
        long t0 = System.nanoTime();
        boolean wasTraining = model.isTraining();
        model.eval();
        ConfusionMatrix cm = new ConfusionMatrix(numClasses);
        double lossSum = 0;
        long n = 0;
        try (var g = Grad.disabled()) {
            for (Batch batch : loader.epoch(epochForOrder)) {
                try (var scope = Memory.scope(); batch) {
                    Tensor logits = model.forward(batch.images().to(device));
                    lossSum += Losses.crossEntropy(logits, batch.labels().to(device)).item() * batch.size();
                    cm.addAll(batch.labels().toLongArray(), logits.argmax(1, false).toLongArray());
                    n += batch.size();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Evaluation(n == 0 ? Double.NaN : lossSum / n, cm.accuracy(), cm, n, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The test pass after training: loads the best checkpoint's weights (the last epoch's when there is none),
     * evaluates, prints the confusion matrix and per-class table, writes test_report.txt and
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
        Evaluation e = evaluate(model, test, model.numClasses(), 0, device);
        String report = testReport(e, classNames, which);
        say(report);
        try {
            AtomicFiles.writeString(runDir.resolve("test_report.txt"), report + "\n");
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write test_report.txt: " + ex.getMessage(), ex);
        }
        try (MetricsLog log = MetricsLog.appendTo(runDir)) {
            log.log(MetricsRow.test(epoch, globalStep, e.loss(), e.accuracy()),
                    Map.of("time", now(), "test_time_s", round(e.seconds()), "images_per_s", round(e.imagesPerSecond()),
                            "checkpoint", which));
        }
        try {
            Plots.confusionMatrix(e.confusion(), classNames, runDir.resolve(Plots.CONFUSION),
                    String.format(Locale.ROOT, "Confusion matrix - test, accuracy %.2f%%", 100 * e.accuracy()));
            Plots.writeRunPlots(runDir);
        } catch (RuntimeException | Error ex) {
            say("warning: plots not written: " + ex);
        }
        return e;
    }

    /** The text printed after a test pass: accuracy line, confusion matrix, per-class table. */
    public static String testReport(Evaluation e, List<String> classNames, String which) {
        return String.format(Locale.ROOT, "test: %s%ntest loss %.4f  test accuracy %.2f%% (%d/%d)  %.1f s, %.0f img/s%n%n"
                        + "confusion matrix (rows: true class, columns: predicted class)%n%s%n%s",
                which, e.loss(), 100 * e.accuracy(), e.confusion().correct(), e.samples(), e.seconds(), e.imagesPerSecond(),
                e.confusion().format(classNames), e.confusion().report(classNames).format());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** Prints a line and appends it to RUN/train.log. */
    public void say(String line) {
        out.println(line);
        out.flush();
        try {
            Files.createDirectories(runDir);
            Files.writeString(runDir.resolve("train.log"), line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the log file is a convenience; the line was printed
        }
    }

    private static String now() {
        return LocalDateTime.now().format(TIME);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
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
