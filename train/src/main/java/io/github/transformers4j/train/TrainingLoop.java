package io.github.transformers4j.train;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.GraphedStep;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
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
 * The epoch loop that {@link Trainer} (images) and {@link Seq2SeqTrainer} (text) share: resume from the last
 * checkpoint, one {@link Memory#scope()} per step, a step row in metrics.csv every {@code logEvery} steps, then per epoch
 * validation, an epoch row, last/best checkpoints, a summary line (also appended to RUN/train.log), plots, early
 * stopping and an optional wall-clock budget. A subclass says what one step and one validation pass are.
 *
 * <p>Losses and accuracies are weighted means: a step reports its mean loss over {@code count} targets (images, or
 * non-padding tokens), and the epoch's loss is the sum of {@code loss * count} over the sum of {@code count}.
 */
public abstract sealed class TrainingLoop<B extends AutoCloseable> permits Trainer, Seq2SeqTrainer {
    public static final String LAST = "checkpoints/last.safetensors", BEST = "checkpoints/best.safetensors";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** One training step: mean loss over {@code count} targets of which {@code correct} were right; {@code items} for throughput. */
    protected record StepStats(double loss, long correct, long count, long items) {}

    /** A validation pass: weighted loss and accuracy, and extra fields for the epoch row of metrics.jsonl. */
    protected record ValStats(double loss, double accuracy, Map<String, Object> extra) {}

    protected final Module module;
    protected final Optimization optimization;
    protected final Random4j rng;
    protected final Path runDir;
    protected final Trainer.Config config;
    protected final PrintStream out;
    protected Device device = Device.CPU;
    protected DType autocast;
    private double timeLimitSeconds;
    private boolean cudaGraphs = true;
    /** Tests: take the capturable step's path on the CPU too (GraphedStep then runs it eagerly: no capture there). */
    boolean capturableOnCpu;
    /** A captured step of one input shape: the fixed device tensors it reads and its graph. */
    private record Captured(Tensor[] inputs, GraphedStep step) {}

    /** Captured steps by input shapes (at most {@link #MAX_GRAPHS}; other shapes run eagerly). */
    private final Map<List<String>, Captured> graphs = new LinkedHashMap<>();
    private Tensor acc;
    static final int MAX_GRAPHS = 8;
    protected long globalStep;
    private volatile boolean stopRequested;

    TrainingLoop(Module module, Optimization optimization, Random4j rng, Path runDir, Trainer.Config config, PrintStream out) {
        this.module = module;
        this.optimization = optimization;
        this.rng = rng;
        this.runDir = runDir;
        this.config = config;
        this.out = out;
    }

    // ------------------------------------------------------------------------------------------ what a task defines

    /** Zero the gradients, forward and loss (under {@link #autocast}), backward, optimizer step at {@link #globalStep}. */
    protected abstract StepStats trainStep(B batch);

    /**
     * A task's step in a form that can be captured into a CUDA graph ({@link GraphedStep}): fixed device inputs per
     * batch shape, filled before each step, and a step that reads only them and adds its loss and accuracy counts to
     * a device accumulator instead of returning them (no host synchronisation).
     */
    protected interface CapturableStep<B> {
        /** The batch's host tensors that the step reads; batches whose inputs have equal shapes share one graph. */
        Tensor[] inputs(B batch);

        /** {count, items} of the batch: the targets its mean loss is over, and the units its throughput counts. */
        long[] counts(B batch);

        /**
         * The step over fixed device tensors shaped as {@link #inputs} returned (each batch is copied into them first):
         * zero the gradients, forward and loss (under autocast), backward, optimizer step, then
         * {@code acc[0] += loss * count, acc[1] += correct} (acc: F64 [2] on the device).
         */
        Runnable step(Tensor[] inputs, Tensor acc);
    }

    /** The task's capturable step, or null to run every step eagerly. */
    protected CapturableStep<B> capturable() {
        return null;
    }

    /** Loss and accuracy over {@code val} in eval mode without gradients. */
    protected abstract ValStats validate(DataLoader<?, B> val, int epoch);

    /** What every checkpoint carries besides the loop's own state (run configuration, tokenizer, ...). */
    protected abstract Map<String, String> checkpointMeta();

    /** How the summary line names the accuracy ("acc", "tok-acc") and the throughput ("img/s", "tok/s"), and the jsonl key of the latter. */
    protected abstract String accuracyName();

    protected abstract String throughputUnit();

    protected abstract String throughputKey();

    protected void onFitStart(int firstEpoch) {}

    protected void onStepEnd(int epoch, long step, double loss) {}

    protected void onEpochEnd(EpochResult r) {}

    protected void onFitEnd(FitResult r) {}

    // ------------------------------------------------------------------------------------------------ settings

    public Path runDir() { return runDir; }
    public Trainer.Config config() { return config; }
    public long globalStep() { return globalStep; }

    /** Asks {@link #fit} to stop after the current epoch (from a callback). */
    public void requestStop() {
        stopRequested = true;
    }

    void setDevice(Device d) {
        this.device = d;
    }

    void setAutocast(DType dtype) {
        this.autocast = dtype;
    }

    /**
     * Whether training steps on a GPU are captured into CUDA graphs and replayed (default true; the CPU never is):
     * loss and accuracy then accumulate on the device and are read once per {@code logEvery} steps.
     */
    void setCudaGraphs(boolean on) {
        this.cudaGraphs = on;
    }

    /**
     * A wall-clock budget for {@link #fit} in seconds (0 = none): no epoch starts that would, at the last epoch's pace,
     * end past it. The learning-rate schedule still spans all epochs, so a stopped run ends before its decay does.
     */
    void setTimeLimit(double seconds) {
        if (!(seconds >= 0)) throw new IllegalArgumentException("time limit must be >= 0 seconds, got " + seconds);
        this.timeLimitSeconds = seconds;
    }

    // ------------------------------------------------------------------------------------------------ the loop

    /**
     * Trains for the configured epochs. With {@code resume} and a {@code last} checkpoint in the run folder, the
     * model, optimizer, schedule, RNG and early-stopping state are restored and training continues with the epoch
     * after the last completed one. {@code val} may be null (then the monitor falls back to training metrics).
     */
    public FitResult fit(DataLoader<?, B> train, DataLoader<?, B> val, boolean resume) {
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
            say(String.format(Locale.ROOT, "resuming from %s: epoch %d done, step %d", last, ck.epoch(), globalStep));
            if (firstEpoch > config.epochs()) { // a finished run: its files stay as they are
                say("nothing to train: all " + config.epochs() + " epochs of the run are done (--resume with a larger --epochs extends it)");
                return new FitResult(List.of(), ck.epoch(), early.bestEpoch(), early.best(), false, 0);
            }
            log = MetricsLog.resume(runDir, ck.epoch());
        } else {
            if (resume) say("no checkpoint at " + last + ": starting from scratch");
            log = MetricsLog.create(runDir);
        }
        onFitStart(firstEpoch);
        List<EpochResult> results = new ArrayList<>();
        int epoch = firstEpoch;
        boolean stopped = false;
        try (log) {
            for (; epoch <= config.epochs() && !stopRequested; epoch++) {
                EpochResult r = runEpoch(epoch, train, val, log, early);
                results.add(r);
                onEpochEnd(r);
                String why = epoch < config.epochs() ? stopReason(early, monitor, fitStart, r, epoch) : null;
                if (why != null) {
                    say(why);
                    stopped = true;
                    epoch++;
                    break;
                }
            }
        }
        closeGraphs();
        FitResult fr = new FitResult(List.copyOf(results), epoch - 1, early.bestEpoch(), early.best(), stopped,
                (System.nanoTime() - fitStart) / 1e9);
        onFitEnd(fr);
        return fr;
    }

    private String stopReason(EarlyStopping early, String monitor, long fitStart, EpochResult r, int epoch) {
        if (early.shouldStop())
            return String.format(Locale.ROOT, "early stop: %s has not improved for %d epochs (best %.4f at epoch %d)", monitor,
                    early.badEpochs(), early.best(), early.bestEpoch());
        double elapsed = (System.nanoTime() - fitStart) / 1e9;
        if (timeLimitSeconds > 0 && elapsed + r.seconds() > timeLimitSeconds)
            return String.format(Locale.ROOT, "time limit: %.0f s used of %.0f s; the next epoch (about %.0f s) would end past it: "
                    + "stopping after epoch %d of %d", elapsed, timeLimitSeconds, r.seconds(), epoch, config.epochs());
        return null;
    }

    private EpochResult runEpoch(int epoch, DataLoader<?, B> train, DataLoader<?, B> val, MetricsLog log, EarlyStopping early) {
        long t0 = System.nanoTime();
        module.train();
        int steps = train.numBatches(), done = 0, windowSteps = 0;
        double lossSum = 0, windowLoss = 0, lr = 0;
        long correct = 0, counted = 0, items = 0;
        try (Progress bar = Progress.start(config.progress(), String.format("epoch %d/%d", epoch, config.epochs()), steps, System.err)) {
            CapturableStep<B> task = cudaGraphs && (device.type() == Device.Type.CUDA || capturableOnCpu) ? capturable() : null;
            double windowWeighted = 0;
            long windowCount = 0;
            for (B batch : train.epoch(epoch)) {
                lr = optimization.lr(globalStep);
                StepStats s = null;
                try (var scope = Memory.scope(); batch) {
                    GraphedStep graph = task == null ? null : graph(task, batch);
                    if (graph == null) {
                        s = trainStep(batch);
                    } else {
                        graph.run();
                        long[] countItems = task.counts(batch);
                        counted += countItems[0];
                        windowCount += countItems[0];
                        items += countItems[1];
                    }
                } catch (Exception e) {
                    if (e instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(e);
                }
                if (s != null) {
                    if (!Double.isFinite(s.loss())) throw diverged(s.loss(), epoch, lr);
                    lossSum += s.loss() * s.count();
                    correct += s.correct();
                    counted += s.count();
                    items += s.items();
                    windowLoss += s.loss();
                    windowWeighted += s.loss() * s.count();
                    windowCount += s.count();
                }
                globalStep++;
                done++;
                windowSteps++;
                if (windowSteps == config.logEvery() || done == steps) {
                    double logged = windowLoss / windowSteps;
                    if (task != null) {
                        // the captured steps' sums: one read per log interval
                        double[] a = acc.toDoubleArray();
                        acc.zero_();
                        lossSum += a[0];
                        correct += Math.round(a[1]);
                        windowWeighted += a[0];
                        logged = windowWeighted / Math.max(1, windowCount);
                        if (!Double.isFinite(logged)) throw diverged(logged, epoch, lr);
                    }
                    log.log(MetricsRow.step(epoch, globalStep, lr, logged),
                            Map.of("time", now(), "elapsed_s", round((System.nanoTime() - t0) / 1e9)));
                    windowLoss = 0;
                    windowSteps = 0;
                    windowWeighted = 0;
                    windowCount = 0;
                }
                bar.step(lossSum / Math.max(1, counted));
                onStepEnd(epoch, globalStep, s != null ? s.loss() : lossSum / Math.max(1, counted));
            }
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        double trainLoss = counted == 0 ? Double.NaN : lossSum / counted, trainAcc = counted == 0 ? Double.NaN : (double) correct / counted;
        // training and evaluation keep different blocks (batch sizes, no activations saved): keep only one set at a time
        Backends.of(device).emptyCache();
        ValStats v = val == null ? null : validate(val, epoch);
        Backends.of(device).emptyCache();
        double valLoss = v == null ? Double.NaN : v.loss(), valAcc = v == null ? Double.NaN : v.accuracy();
        double seconds = (System.nanoTime() - t0) / 1e9, rate = items / trainSeconds;
        EpochResult partial = new EpochResult(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc, seconds, rate, false);
        boolean best = early.update(epoch, partial.get(early.monitor()));
        EpochResult r = new EpochResult(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc, seconds, rate, best);

        LinkedHashMap<String, Object> extra = new LinkedHashMap<>();
        extra.put("time", now());
        extra.put("epoch_time_s", round(seconds));
        extra.put("train_time_s", round(trainSeconds));
        extra.put(throughputKey(), round(rate));
        if (v != null) v.extra().forEach((k, x) -> extra.put(k, x instanceof Double d ? round(d) : x));
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

    private IllegalStateException diverged(double loss, int epoch, double lr) {
        return new IllegalStateException(String.format(Locale.ROOT, "training diverged: loss %s at epoch %d step %d (lr %.3g); "
                + "try a lower --lr or a longer --warmup", loss, epoch, globalStep + 1, lr));
    }

    /**
     * The captured step for the batch's input shapes, made on first use, with the batch copied into its fixed inputs;
     * null when the cache is full (the step then runs eagerly).
     */
    private GraphedStep graph(CapturableStep<B> task, B batch) {
        Tensor[] host = task.inputs(batch);
        List<String> key = new ArrayList<>(host.length);
        for (Tensor t : host) key.add(t.dtype() + java.util.Arrays.toString(t.shape()));
        Captured c = graphs.get(key);
        if (c == null) {
            if (graphs.size() >= MAX_GRAPHS) {
                if (!saidGraphsFull) say("note: more than " + MAX_GRAPHS + " batch shapes: steps of further shapes run eagerly (not captured)");
                saidGraphsFull = true;
                return null;
            }
            if (acc == null) acc = Memory.unscoped(() -> Tensor.full(0, DType.F64, device, 2)).keep();
            Tensor[] fixed = Memory.unscoped(() -> {
                Tensor[] f = new Tensor[host.length];
                for (int i = 0; i < f.length; i++) f[i] = Tensor.full(0, host[i].dtype(), device, host[i].shape()).keep();
                return f;
            });
            c = new Captured(fixed, new GraphedStep(device, task.step(fixed, acc), 1, "the training step for inputs " + key));
            graphs.put(key, c);
        }
        try (var off = Grad.disabled()) {
            for (int i = 0; i < host.length; i++) c.inputs()[i].copy_(host[i]);
        }
        return c.step();
    }

    private boolean saidGraphsFull;

    /** Releases the captured steps' graphs and their memory. */
    private void closeGraphs() {
        graphs.values().forEach(c -> c.step().close());
        graphs.clear();
    }

    private String summary(EpochResult r) {
        String acc = accuracyName();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s epoch %d/%d  train loss %.4f %s %.2f%%", now(), r.epoch(),
                config.epochs(), r.trainLoss(), acc, 100 * r.trainAcc()));
        if (!Double.isNaN(r.valLoss())) sb.append(String.format(Locale.ROOT, "  val loss %.4f %s %.2f%%", r.valLoss(), acc, 100 * r.valAcc()));
        sb.append(String.format(Locale.ROOT, "  %.1f s  %.0f %s  lr %.3g", r.seconds(), r.imagesPerSecond(), throughputUnit(), r.lr()));
        if (r.best()) sb.append("  *best*");
        return sb.toString();
    }

    private Checkpoint checkpoint(int epoch, EarlyStopping early) {
        Map<String, String> meta = new LinkedHashMap<>(checkpointMeta());
        meta.put("epoch", String.valueOf(epoch));
        meta.put("global_step", String.valueOf(globalStep));
        meta.put("rng_seed", String.valueOf(rng.seed()));
        meta.put("rng_counter", String.valueOf(rng.counter()));
        meta.put("optimizer", optimization.stateJson());
        meta.put("early_stopping", early.state());
        meta.put("monitor", early.monitor());
        return new Checkpoint(module.stateDict(), optimization.stateTensors(), meta);
    }

    private void restore(Checkpoint ck, EarlyStopping early) {
        module.loadStateDict(ck.model(), true);
        optimization.loadState(ck.optimizer(), ck.require("optimizer"));
        long seed = Long.parseLong(ck.require("rng_seed"));
        if (seed != rng.seed())
            throw new IllegalArgumentException("resume: the checkpoint's RNG seed " + seed + " differs from this run's "
                    + rng.seed() + "; resume with the same --seed");
        rng.setCounter(Long.parseLong(ck.require("rng_counter")));
        early.restore(ck.require("early_stopping"));
        globalStep = ck.globalStep();
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

    static String now() {
        return LocalDateTime.now().format(TIME);
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
