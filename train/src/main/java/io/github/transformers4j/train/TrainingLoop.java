package io.github.transformers4j.train;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Autocast;
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
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop of every task (image classification, seq2seq, MAE pre-training, ...), as Hugging Face's
 * {@code Trainer} and DJL's {@code EasyTrain.fit}: epochs of optimizer steps over a {@link Task}, each step one or
 * more micro-batches ({@linkplain Config#gradientAccumulation gradient accumulation}), one {@link Memory#scope()}
 * per micro-batch, a step row every {@code logEvery} steps, a validation pass every {@code evalSteps} steps and at
 * every epoch's end, and an epoch row. Everything optional is a {@link Callback}; {@link #standardCallbacks} are
 * installed unless the loop is made with {@link #bare}.
 *
 * <pre>{@code
 * var loop = new TrainingLoop<>(task, optimization, rng, runDir, TrainingLoop.Config.builder().epochs(10).build(), System.out);
 * FitResult r = loop.fit(trainLoader, valLoader, resume);
 * }</pre>
 *
 * <p>Losses and accuracies are weighted means: a micro-batch's mean loss is over {@code count} targets (images,
 * non-padding tokens), an accumulated step's loss is their count-weighted mean (its gradient is that of one batch
 * holding them all), and an epoch's loss is the sum of {@code loss * count} over the sum of {@code count}.
 *
 * <p>Resume: a checkpoint ({@link ModelCheckpoint}) holds the model, the optimizer and its schedule, the RNG
 * counter, the loop's position (epoch, micro-batches done, running sums) and every callback's {@linkplain
 * Callback#state state}. The data order of epoch {@code e} depends only on (seed, e), so a run resumed at any saved
 * step, mid-epoch included, goes on with the same batches and writes the same metrics.csv as an uninterrupted one.
 *
 * <p>On a GPU, steps with static shapes are captured into CUDA graphs and replayed ({@link GraphedStep}, one graph
 * per input shape, at most {@value #MAX_GRAPHS}); their loss and accuracy sums stay on the device and are read once
 * per step row.
 */
public final class TrainingLoop<B extends AutoCloseable> {
    public static final String LAST = "checkpoints/last.safetensors", BEST = "checkpoints/best.safetensors";
    static final int MAX_GRAPHS = 8;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /**
     * @param epochs               total epochs of the run (a resumed run continues up to this number)
     * @param logEvery             a step row every this many optimizer steps (the mean loss of those steps)
     * @param progress             a progress bar per epoch on a terminal ({@link ProgressBar})
     * @param monitor              the metric whose best value picks the best checkpoint and drives early stopping:
     *                             val_loss, val_acc, train_loss, train_acc (val_ falls back to train_ without validation data)
     * @param mode                 MIN or MAX for the monitor
     * @param patience             evaluations without improvement before stopping ({@link EarlyStopping}); 0: never
     * @param gradientAccumulation micro-batches per optimizer step
     * @param evalSteps            a validation pass (and an eval row) every this many steps, besides every epoch's end; 0: epochs only
     * @param saveSteps            the last checkpoint every this many steps, besides every epoch's end; 0: epochs only
     * @param saveTotalLimit       with saveSteps, keep this many step snapshots ({@code checkpoints/step-N.safetensors}) besides
     *                             last and best; 0: none kept, -1: all
     * @param timeLimitSeconds     no epoch starts that would end past this wall-clock budget at the last epoch's pace ({@link TimeLimit}); 0: none
     * @param cudaGraphs           capture steps on a GPU (ignored on the CPU, and with gradient accumulation)
     * @param tensorboard          TensorBoard event files beside metrics.csv ({@link MetricsLogger})
     * @param plots                loss and accuracy plots after every epoch ({@link PlotWriter})
     */
    public record Config(int epochs, int logEvery, boolean progress, String monitor, EarlyStopping.Mode mode, int patience,
                         int gradientAccumulation, int evalSteps, int saveSteps, int saveTotalLimit, double timeLimitSeconds,
                         boolean cudaGraphs, boolean tensorboard, boolean plots) {
        public Config {
            if (epochs <= 0) throw new IllegalArgumentException("training: epochs must be positive, got " + epochs);
            if (logEvery <= 0) throw new IllegalArgumentException("training: logEvery must be positive, got " + logEvery);
            if (patience < 0) throw new IllegalArgumentException("training: patience must be >= 0, got " + patience);
            if (gradientAccumulation < 1)
                throw new IllegalArgumentException("training: gradient accumulation must be >= 1 micro-batch, got " + gradientAccumulation);
            if (evalSteps < 0) throw new IllegalArgumentException("training: evalSteps must be >= 0, got " + evalSteps);
            if (saveSteps < 0) throw new IllegalArgumentException("training: saveSteps must be >= 0, got " + saveSteps);
            if (saveTotalLimit < -1) throw new IllegalArgumentException("training: saveTotalLimit must be >= -1, got " + saveTotalLimit);
            if (!(timeLimitSeconds >= 0)) throw new IllegalArgumentException("training: time limit must be >= 0 seconds, got " + timeLimitSeconds);
            MetricsRow.step(0, 0, 0, 0).get(monitor); // an unknown metric fails here, with the known ones listed
        }

        public static Config of(int epochs) {
            return builder().epochs(epochs).build();
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            return new Builder().epochs(epochs).logEvery(logEvery).progress(progress).monitor(monitor, mode).patience(patience)
                    .gradientAccumulation(gradientAccumulation).evalSteps(evalSteps).saveSteps(saveSteps).saveTotalLimit(saveTotalLimit)
                    .timeLimitSeconds(timeLimitSeconds).cudaGraphs(cudaGraphs).tensorboard(tensorboard).plots(plots);
        }

        public Config withProgress(boolean on) {
            return toBuilder().progress(on).build();
        }

        public Config withMonitor(String metric, EarlyStopping.Mode m, int patience) {
            return toBuilder().monitor(metric, m).patience(patience).build();
        }

        public Config withLogEvery(int n) {
            return toBuilder().logEvery(n).build();
        }

        /** Defaults: 1 epoch, a row every 10 steps, no bar, val_loss (MIN), no early stop, no accumulation, evaluation and
         * checkpoints per epoch, no time limit, CUDA graphs, TensorBoard and plots on. */
        public static final class Builder {
            private int epochs = 1, logEvery = 10, patience, gradientAccumulation = 1, evalSteps, saveSteps, saveTotalLimit;
            private boolean progress, cudaGraphs = true, tensorboard = true, plots = true;
            private String monitor = "val_loss";
            private EarlyStopping.Mode mode = EarlyStopping.Mode.MIN;
            private double timeLimitSeconds;

            public Builder epochs(int n) { epochs = n; return this; }
            public Builder logEvery(int n) { logEvery = n; return this; }
            public Builder progress(boolean on) { progress = on; return this; }
            /** The metric and its mode; {@link EarlyStopping#defaultMode} gives MAX for accuracies. */
            public Builder monitor(String metric, EarlyStopping.Mode m) { monitor = metric; mode = m; return this; }
            public Builder patience(int n) { patience = n; return this; }
            public Builder gradientAccumulation(int n) { gradientAccumulation = n; return this; }
            public Builder evalSteps(int n) { evalSteps = n; return this; }
            public Builder saveSteps(int n) { saveSteps = n; return this; }
            public Builder saveTotalLimit(int n) { saveTotalLimit = n; return this; }
            public Builder timeLimitSeconds(double s) { timeLimitSeconds = s; return this; }
            public Builder cudaGraphs(boolean on) { cudaGraphs = on; return this; }
            public Builder tensorboard(boolean on) { tensorboard = on; return this; }
            public Builder plots(boolean on) { plots = on; return this; }

            public Config build() {
                return new Config(epochs, logEvery, progress, monitor, mode, patience, gradientAccumulation, evalSteps, saveSteps,
                        saveTotalLimit, timeLimitSeconds, cudaGraphs, tensorboard, plots);
            }
        }
    }

    private final Task<B> task;
    private final Module module;
    private final Optimization optimization;
    private final Random4j rng;
    private final Path runDir;
    private final Config config;
    private final PrintStream out;
    private final List<Callback> callbacks = new ArrayList<>();
    private Device device = Device.CPU;
    private DType autocast;
    private boolean capturableOnCpu;

    // the run's position and running sums: all of it goes into checkpoints
    private int epoch;
    private long globalStep;
    private int batchesDone;        // micro-batches of the current epoch consumed
    private int trainBatches;       // micro-batches per epoch
    private boolean epochDone;
    private double lossSum, windowLoss, windowWeighted, windowGradNorm, lr;
    private long correct, counted, items, windowCount;
    private int windowSteps, windowGradSteps;
    private String monitor;
    private double best;
    private int bestEpoch;
    private long bestStep;
    private long resumedAt = -1;
    private volatile String stopReason;
    private long fitStart;

    /** A captured step of one input shape: the fixed device tensors it reads and its graph. */
    private record Captured(Tensor[] inputs, GraphedStep step) {}

    private final Map<List<String>, Captured> graphs = new LinkedHashMap<>();
    private Tensor acc;
    private boolean saidGraphsFull;

    /** A loop with {@link #standardCallbacks} for {@code config}; {@code out} gets the summary lines (also RUN/train.log). */
    public TrainingLoop(Task<B> task, Optimization optimization, Random4j rng, Path runDir, Config config, PrintStream out) {
        this(task, optimization, rng, runDir, config, out, true);
    }

    private TrainingLoop(Task<B> task, Optimization optimization, Random4j rng, Path runDir, Config config, PrintStream out,
                         boolean standard) {
        this.task = task;
        this.module = task.module();
        this.optimization = optimization;
        this.rng = rng;
        this.runDir = runDir;
        this.config = config;
        this.out = out;
        if (standard) callbacks.addAll(standardCallbacks(config));
    }

    /** A loop without callbacks: no files but train.log (add what you need with {@link #addCallback}). */
    public static <B extends AutoCloseable> TrainingLoop<B> bare(Task<B> task, Optimization optimization, Random4j rng, Path runDir,
                                                                 Config config, PrintStream out) {
        return new TrainingLoop<>(task, optimization, rng, runDir, config, out, false);
    }

    /**
     * What a run folder gets by default: metrics.csv/.jsonl and TensorBoard, the last and best checkpoints, early
     * stopping (patience > 0), the time limit (when set), a progress bar (when asked) and plots.
     */
    public static List<Callback> standardCallbacks(Config c) {
        List<Callback> cbs = new ArrayList<>();
        cbs.add(new MetricsLogger(c.tensorboard()));
        cbs.add(new ModelCheckpoint(c.saveSteps(), c.saveTotalLimit()));
        if (c.patience() > 0) cbs.add(new EarlyStopping(c.patience()));
        if (c.timeLimitSeconds() > 0) cbs.add(new TimeLimit(c.timeLimitSeconds()));
        if (c.progress()) cbs.add(new ProgressBar());
        if (c.plots()) cbs.add(new PlotWriter());
        return cbs;
    }

    public TrainingLoop<B> addCallback(Callback c) {
        callbacks.add(c);
        return this;
    }

    /** Runs on {@code d} (the module must already be there); batches are copied to it. */
    public TrainingLoop<B> onDevice(Device d) {
        this.device = d;
        return this;
    }

    /** Mixed precision for the forward pass and loss ({@link Autocast}; null = fp32); the backward and the update run outside it. */
    public TrainingLoop<B> precision(DType dtype) {
        this.autocast = dtype;
        return this;
    }

    /**
     * Takes the capturable step's path on the CPU too (device sums read once per row; {@link GraphedStep} runs it
     * eagerly there): tests of that path without a GPU.
     */
    public TrainingLoop<B> capturableStepsOnCpu(boolean on) {
        this.capturableOnCpu = on;
        return this;
    }

    public Task<B> task() { return task; }
    public Module module() { return module; }
    public Path runDir() { return runDir; }
    public Config config() { return config; }
    public Device device() { return device; }
    public List<Callback> callbacks() { return List.copyOf(callbacks); }
    public long globalStep() { return globalStep; }
    public int epoch() { return epoch; }
    /** The step a resumed run continues after, or -1 for a fresh run. */
    public long resumedAt() { return resumedAt; }
    /** The monitored metric (val_ replaced by train_ when there is no validation data). */
    public String monitor() { return monitor; }
    public double best() { return best; }
    public int bestEpoch() { return bestEpoch; }
    /** The current epoch's running mean training loss. */
    public double runningLoss() { return lossSum / Math.max(1, counted); }
    /** Seconds since {@link #fit} started. */
    public double elapsedSeconds() { return (System.nanoTime() - fitStart) / 1e9; }
    /** Micro-batches per epoch of the data being trained on. */
    public int trainBatches() { return trainBatches; }
    /** Whether the last step ended the current epoch (a checkpoint then waits for the epoch's end). */
    public boolean atEpochEnd() { return epochDone; }

    /** Ends training before the next step (from a callback); the reason is printed and logged. */
    public void requestStop(String reason) {
        if (stopReason == null) stopReason = reason;
    }

    // ------------------------------------------------------------------------------------------------ the loop

    /**
     * Trains up to {@code config.epochs()}. With {@code resume} and a last checkpoint in the run folder, everything
     * it holds is restored and training goes on from its step. {@code val} may be null.
     */
    public FitResult fit(DataLoader<?, B> train, DataLoader<?, B> val, boolean resume) {
        fitStart = System.nanoTime();
        monitor = val == null && config.monitor().startsWith("val_") ? config.monitor().replace("val_", "train_") : config.monitor();
        best = config.mode() == EarlyStopping.Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        epoch = 1;
        globalStep = 0;
        bestEpoch = 0;
        resumedAt = -1;
        stopReason = null;
        resetEpochSums();
        Path last = runDir.resolve(LAST);
        if (resume && Files.isRegularFile(last)) {
            Checkpoint ck = Checkpoint.load(last);
            restore(ck);
            resumedAt = globalStep;
            say(String.format(Locale.ROOT, "resuming from %s: epoch %d %s, step %d", last, ck.epoch(),
                    epochDone ? "done" : "at batch " + batchesDone, globalStep));
            if (epochDone && epoch >= config.epochs()) { // a finished run: its files stay as they are
                say("nothing to train: all " + config.epochs() + " epochs of the run are done (--resume with a larger --epochs extends it)");
                return new FitResult(List.of(), epoch, bestEpoch, best, false, 0);
            }
        } else if (resume) {
            say("no checkpoint at " + last + ": starting from scratch");
        }
        if (epochDone) {
            epoch++;
            epochDone = false;
            batchesDone = 0;
            resetEpochSums();
        }
        List<EpochResult> results = new ArrayList<>();
        boolean stopped = false;
        try {
            for (Callback c : callbacks) c.onTrainBegin(this);
            for (; epoch <= config.epochs(); epoch++) {
                EpochResult r = runEpoch(train, val);
                if (r != null) results.add(r);
                if (stopReason != null && (r == null || epoch < config.epochs())) {
                    say(stopReason);
                    stopped = true;
                    break;
                }
            }
            int lastEpoch = Math.min(epoch, config.epochs());
            FitResult fr = new FitResult(List.copyOf(results), lastEpoch, bestEpoch, best, stopped, elapsedSeconds());
            for (Callback c : callbacks) c.onTrainEnd(this, fr);
            return fr;
        } finally {
            closeGraphs();
            for (Callback c : callbacks) c.close();
        }
    }

    /** One epoch from {@link #batchesDone}; null when a stop was requested mid-epoch. */
    private EpochResult runEpoch(DataLoader<?, B> train, DataLoader<?, B> val) {
        long t0 = System.nanoTime();
        module.train();
        int k = config.gradientAccumulation();
        boolean capture = config.cudaGraphs() && k == 1 && task.capturable() && (device.type() == Device.Type.CUDA || capturableOnCpu);
        if (config.cudaGraphs() && k > 1 && device.type() == Device.Type.CUDA && batchesDone == 0 && epoch == 1)
            say("note: steps with gradient accumulation run eagerly (not captured as CUDA graphs)");
        int batches = trainBatches = train.numBatches();
        long itemsAtStart = items;
        for (Callback c : callbacks) c.onEpochBegin(this, epoch);
        Iterator<B> it = train.epoch(epoch, batchesDone).iterator();
        while (it.hasNext()) {
            if (stopReason != null) return null;
            List<B> micro = new ArrayList<>(k);
            while (micro.size() < k && it.hasNext()) micro.add(it.next());
            lr = optimization.lr(globalStep);
            for (Callback c : callbacks) c.onStepBegin(this, globalStep + 1);
            double stepLoss = capture ? capturedStep(micro.getFirst()) : eagerStep(micro);
            batchesDone += micro.size();
            globalStep++;
            windowSteps++;
            epochDone = batchesDone == batches;
            if (windowSteps == config.logEvery() || epochDone) logWindow(t0);
            if (config.evalSteps() > 0 && globalStep % config.evalSteps() == 0 && !epochDone && val != null) evaluate(val);
            for (Callback c : callbacks) c.onStepEnd(this, globalStep, stepLoss);
        }
        if (stopReason != null && !epochDone) return null;
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        double trainLoss = counted == 0 ? Double.NaN : lossSum / counted, trainAcc = counted == 0 || task.names().accuracy() == null ? Double.NaN : (double) correct / counted;
        Task.Validation v = val == null ? null : validate(val);
        double valLoss = v == null ? Double.NaN : v.loss(), valAcc = v == null ? Double.NaN : v.accuracy();
        double seconds = (System.nanoTime() - t0) / 1e9, rate = (items - itemsAtStart) / trainSeconds;
        double value = monitored(valLoss, valAcc);
        boolean improved = improve(value);
        EpochResult r = new EpochResult(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc, seconds, rate, improved);
        for (Callback c : callbacks)
            c.onEvaluate(this, new Callback.Evaluated(epoch, globalStep, valLoss, valAcc, monitor, value, improved, true));

        LinkedHashMap<String, Object> extra = new LinkedHashMap<>();
        extra.put("time", now());
        extra.put("epoch_time_s", round(seconds));
        extra.put("train_time_s", round(trainSeconds));
        extra.put(task.names().key(), round(rate));
        if (v != null) v.extra().forEach((key, x) -> extra.put(key, x instanceof Double d ? round(d) : x));
        extra.put("best", improved);
        log(MetricsRow.epoch(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc), extra);
        for (Callback c : callbacks) c.onEpochEnd(this, r);
        say(summary(r)); // after the checkpoints: an epoch reported done is saved
        batchesDone = 0;
        epochDone = false;
        resetEpochSums();
        return r;
    }

    /** The micro-batches of one optimizer step, eagerly; returns the step's mean loss. */
    private double eagerStep(List<B> micro) {
        optimization.zeroGrad();
        long total = 0;
        long[][] counts = new long[micro.size()][];
        for (int i = 0; i < micro.size(); i++) total += (counts[i] = task.counts(micro.get(i)))[0];
        double weighted = 0, first = 0;
        for (int i = 0; i < micro.size(); i++) {
            double loss;
            long hits;
            try (var scope = Memory.scope(); B batch = micro.get(i)) {
                Tensor[] in = task.inputs(batch);
                for (int j = 0; j < in.length; j++) in[j] = in[j].to(device);
                Task.Output o;
                try (var ac = Autocast.enable(autocast)) {
                    o = task.forward(in);
                }
                // one micro-batch's share of the step's gradient: its targets over the step's (as one big batch)
                (micro.size() == 1 ? o.loss() : o.loss().mul((double) counts[i][0] / total)).backward();
                loss = o.loss().item();
                hits = o.correct() == null ? 0 : (long) o.correct().item();
            } catch (Exception e) {
                if (e instanceof RuntimeException re) throw re;
                throw new IllegalStateException(e);
            }
            if (!Double.isFinite(loss)) throw diverged(loss);
            lossSum += loss * counts[i][0];
            correct += hits;
            counted += counts[i][0];
            items += counts[i][1];
            windowWeighted += loss * counts[i][0];
            windowCount += counts[i][0];
            weighted += loss * counts[i][0];
            if (i == 0) first = loss;
        }
        for (Callback c : callbacks) c.onPreOptimizerStep(this, globalStep + 1);
        try (var scope = Memory.scope()) {
            optimization.step(globalStep);
            addGradNorm(); // on the device: no host read after the update
        }
        if (optimization.lastGradNorm() != null) windowGradSteps++;
        double stepLoss = micro.size() == 1 ? first : weighted / Math.max(1, total);
        windowLoss += stepLoss;
        return stepLoss;
    }

    /** One step through its captured graph (made on first use of the batch's shapes); eager when the cache is full. */
    private double capturedStep(B batch) {
        Tensor[] host = task.inputs(batch);
        List<String> key = shapeKey(host);
        if (!graphs.containsKey(key) && graphs.size() >= MAX_GRAPHS) {
            if (!saidGraphsFull) say("note: more than " + MAX_GRAPHS + " batch shapes: steps of further shapes run eagerly (not captured)");
            saidGraphsFull = true;
            return eagerStep(List.of(batch));
        }
        long[] c = task.counts(batch);
        try (var scope = Memory.scope(); batch) {
            graph(host, key, c[0]).run();
        } catch (Exception e) {
            if (e instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e);
        }
        counted += c[0];
        windowCount += c[0];
        items += c[1];
        if (optimization.lastGradNorm() != null) windowGradSteps++; // the graph added its norm to the accumulator
        return Double.NaN;
    }

    private void logWindow(long epochStart) {
        readAccumulator(); // one read per row: the captured steps' sums, the gradient norms
        double logged = windowLoss / windowSteps;
        if (!graphs.isEmpty()) {
            logged = windowWeighted / Math.max(1, windowCount);
            if (!Double.isFinite(logged)) throw diverged(logged);
        }
        LinkedHashMap<String, Object> extra = new LinkedHashMap<>();
        extra.put("time", now());
        extra.put("elapsed_s", round((System.nanoTime() - epochStart) / 1e9));
        // the mean global gradient norm (before clipping) of the row's steps: jsonl and TensorBoard's train/grad_norm
        if (windowGradSteps > 0) extra.put("grad_norm", windowGradNorm / windowGradSteps);
        log(MetricsRow.step(epoch, globalStep, lr, logged), extra);
        windowLoss = 0;
        windowGradNorm = 0;
        windowGradSteps = 0;
        windowSteps = 0;
        windowWeighted = 0;
        windowCount = 0;
    }

    /**
     * The device sums read once per row: {@code [0]} loss * count and {@code [1]} right predictions of captured steps,
     * {@code [2]} the gradient norms of every step (F64 [3]).
     */
    private Tensor accumulator() {
        if (acc == null) acc = Memory.unscoped(() -> Tensor.full(0, DType.F64, device, 3)).keep();
        return acc;
    }

    /** Adds the last update's gradient norm (when it computed one) to the accumulator. */
    private void addGradNorm() {
        Tensor norm = optimization.lastGradNorm();
        if (norm != null) accumulator().narrow(0, 2, 1).add_(norm.to(DType.F64).reshape(1), 1);
    }

    /** Adds the device sums to the host's (one read) and clears them. */
    private void readAccumulator() {
        if (acc == null) return;
        double[] a = acc.toDoubleArray();
        acc.zero_();
        lossSum += a[0];
        correct += Math.round(a[1]);
        windowWeighted += a[0];
        windowGradNorm += a[2];
    }

    /** A validation pass mid-epoch: an eval row, and the monitor's best. */
    private void evaluate(DataLoader<?, B> val) {
        Task.Validation v = validate(val);
        double value = monitored(v.loss(), v.accuracy());
        boolean improved = improve(value);
        for (Callback c : callbacks)
            c.onEvaluate(this, new Callback.Evaluated(epoch, globalStep, v.loss(), v.accuracy(), monitor, value, improved, false));
        LinkedHashMap<String, Object> extra = new LinkedHashMap<>();
        extra.put("time", now());
        v.extra().forEach((key, x) -> extra.put(key, x instanceof Double d ? round(d) : x));
        extra.put("best", improved);
        log(MetricsRow.eval(epoch, globalStep, lr, v.loss(), v.accuracy()), extra);
    }

    /** The monitored metric now: a validation figure, or the epoch's running training loss or accuracy (NaN before any step). */
    private double monitored(double valLoss, double valAcc) {
        if (monitor.startsWith("train_")) readAccumulator(); // captured steps' sums still on the device count too
        return switch (monitor) {
            case "val_loss" -> valLoss;
            case "val_acc" -> valAcc;
            case "train_loss" -> counted == 0 ? Double.NaN : lossSum / counted;
            default -> counted == 0 ? Double.NaN : (double) correct / counted;
        };
    }

    private Task.Validation validate(DataLoader<?, B> val) {
        // training and evaluation keep different blocks (batch sizes, no activations saved): keep only one set at a time
        Backends.of(device).emptyCache();
        Task.Validation v;
        try (var w = optimization.evaluationWeights()) { // e.g. the moving average of --ema
            v = task.validate(val, device, config.progress());
        }
        Backends.of(device).emptyCache();
        return v;
    }

    /** The weights to evaluate with in place of the trained ones until closed ({@link Optimization#evaluationWeights}). */
    public Optimization.Restore evaluationWeights() {
        return optimization.evaluationWeights();
    }

    private boolean improve(double value) {
        boolean improved = config.mode() == EarlyStopping.Mode.MIN ? value < best : value > best; // NaN never improves
        if (improved) {
            best = value;
            bestEpoch = epoch;
            bestStep = globalStep;
        }
        return improved;
    }

    private void log(MetricsRow row, Map<String, Object> extra) {
        for (Callback c : callbacks) c.onLog(this, row, extra);
    }

    private void resetEpochSums() {
        lossSum = windowLoss = windowWeighted = windowGradNorm = 0;
        windowGradSteps = 0;
        correct = counted = items = windowCount = 0;
        windowSteps = 0;
    }

    private IllegalStateException diverged(double loss) {
        return new IllegalStateException(String.format(Locale.ROOT, "training diverged: loss %s at epoch %d step %d (lr %.3g); "
                + "try a lower --lr or a longer --warmup", loss, epoch, globalStep + 1, lr));
    }

    private static List<String> shapeKey(Tensor[] host) {
        List<String> key = new ArrayList<>(host.length);
        for (Tensor t : host) key.add(t.dtype() + Arrays.toString(t.shape()));
        return key;
    }

    /** The captured step for these input shapes, made on first use, with the batch's inputs copied into its fixed ones. */
    private GraphedStep graph(Tensor[] host, List<String> key, long count) {
        Captured c = graphs.get(key);
        if (c == null) {
            accumulator();
            Tensor[] fixed = Memory.unscoped(() -> {
                Tensor[] f = new Tensor[host.length];
                for (int i = 0; i < f.length; i++) f[i] = Tensor.full(0, host[i].dtype(), device, host[i].shape()).keep();
                return f;
            });
            c = new Captured(fixed, new GraphedStep(device, capturable(fixed, count), 1, "the training step for inputs " + key));
            graphs.put(key, c);
        }
        try (var off = Grad.disabled()) {
            for (int i = 0; i < host.length; i++) c.inputs()[i].copy_(host[i]);
        }
        return c.step();
    }

    /**
     * The step over fixed device inputs: zero the gradients, forward and loss under autocast, backward, update, then
     * {@code acc[0] += loss * count, acc[1] += correct}, and with clipping {@code acc[2] += gradient norm}, on the device (no host read: a GPU captures it).
     */
    private Runnable capturable(Tensor[] in, long count) {
        return () -> {
            try (var scope = Memory.scope()) {
                optimization.zeroGrad();
                Task.Output o;
                try (var ac = Autocast.enable(autocast)) {
                    o = task.forward(in);
                }
                o.loss().backward();
                optimization.step(globalStep);
                try (var g = Grad.disabled()) {
                    Tensor loss = o.loss().detach().to(DType.F64).reshape(1);
                    acc.narrow(0, 0, 1).add_(o.count() == null ? loss.mul((double) count) : loss.mul(o.count().to(DType.F64).reshape(1)), 1);
                    if (o.correct() != null) acc.narrow(0, 1, 1).add_(o.correct().to(DType.F64).reshape(1), 1);
                    addGradNorm();
                }
            }
        };
    }

    /** Releases the captured steps' graphs and their memory. */
    private void closeGraphs() {
        graphs.values().forEach(c -> c.step().close());
        graphs.clear();
    }

    private String summary(EpochResult r) {
        Task.Names n = task.names();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s epoch %d/%d  train loss %.4f", now(), r.epoch(), config.epochs(), r.trainLoss()));
        if (!Double.isNaN(r.trainAcc())) sb.append(String.format(Locale.ROOT, " %s %.2f%%", n.accuracy(), 100 * r.trainAcc()));
        if (!Double.isNaN(r.valLoss())) sb.append(String.format(Locale.ROOT, "  val loss %.4f", r.valLoss()));
        if (!Double.isNaN(r.valAcc())) sb.append(String.format(Locale.ROOT, " %s %.2f%%", n.accuracy(), 100 * r.valAcc()));
        sb.append(String.format(Locale.ROOT, "  %.1f s  %.0f %s  lr %.3g", r.seconds(), r.imagesPerSecond(), n.unit(), r.lr()));
        if (r.best()) sb.append("  *best*");
        return sb.toString();
    }

    // -------------------------------------------------------------------------------------------- checkpoints

    /**
     * The run's whole state now: the module, the optimizer, the RNG counter, the loop's position and sums, the best
     * value, every callback's state, and the task's metadata. The captured steps' device sums are read first.
     */
    public Checkpoint checkpoint() {
        readAccumulator();
        Map<String, String> meta = new LinkedHashMap<>(task.checkpointMeta());
        meta.put("epoch", String.valueOf(epoch));
        meta.put("epoch_done", String.valueOf(epochDone));
        meta.put("batches_done", String.valueOf(batchesDone));
        meta.put("global_step", String.valueOf(globalStep));
        meta.put("rng_seed", String.valueOf(rng.seed()));
        meta.put("rng_counter", String.valueOf(rng.counter()));
        meta.put("optimizer", optimization.stateJson());
        meta.put("monitor", monitor);
        meta.put("best", best + "," + bestEpoch + "," + bestStep);
        // exact decimal forms of the sums (Double.toString round-trips): a resumed epoch ends with the same figures
        meta.put("epoch_sums", lossSum + "," + correct + "," + counted + "," + items + "," + windowLoss + "," + windowWeighted
                + "," + windowCount + "," + windowSteps + "," + lr + "," + windowGradNorm + "," + windowGradSteps);
        for (Callback c : callbacks) {
            String s = c.state();
            if (s != null) meta.put("callback." + c.name(), s);
        }
        return new Checkpoint(module.stateDict(), optimization.stateTensors(), meta);
    }

    private void restore(Checkpoint ck) {
        module.loadStateDict(ck.model(), true);
        optimization.loadState(ck.optimizer(), ck.require("optimizer"));
        long seed = Long.parseLong(ck.require("rng_seed"));
        if (seed != rng.seed())
            throw new IllegalArgumentException("resume: the checkpoint's RNG seed " + seed + " differs from this run's "
                    + rng.seed() + "; resume with the same --seed");
        rng.setCounter(Long.parseLong(ck.require("rng_counter")));
        epoch = ck.epoch();
        globalStep = ck.globalStep();
        epochDone = ck.meta("epoch_done") == null || Boolean.parseBoolean(ck.meta("epoch_done")); // older checkpoints: per epoch
        batchesDone = ck.meta("batches_done") == null ? 0 : Integer.parseInt(ck.meta("batches_done"));
        if (ck.meta("best") != null) {
            String[] b = ck.meta("best").split(",");
            best = Double.parseDouble(b[0]);
            bestEpoch = Integer.parseInt(b[1]);
            bestStep = Long.parseLong(b[2]);
        } else if (ck.meta("early_stopping") != null) { // checkpoints before the loop's rewrite: best,bestEpoch,badEpochs
            String[] b = ck.meta("early_stopping").split(",");
            best = Double.parseDouble(b[0]);
            bestEpoch = Integer.parseInt(b[1]);
        }
        if (ck.meta("epoch_sums") != null && !epochDone) {
            String[] s = ck.meta("epoch_sums").split(",");
            lossSum = Double.parseDouble(s[0]);
            correct = Long.parseLong(s[1]);
            counted = Long.parseLong(s[2]);
            items = Long.parseLong(s[3]);
            windowLoss = Double.parseDouble(s[4]);
            windowWeighted = Double.parseDouble(s[5]);
            windowCount = Long.parseLong(s[6]);
            windowSteps = Integer.parseInt(s[7]);
            lr = Double.parseDouble(s[8]);
            if (s.length > 10) {
                windowGradNorm = Double.parseDouble(s[9]);
                windowGradSteps = Integer.parseInt(s[10]);
            }
        }
        for (Callback c : callbacks) {
            String s = ck.meta("callback." + c.name());
            if (s != null) c.loadState(s);
        }
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

    public static String now() {
        return LocalDateTime.now().format(TIME);
    }

    public static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
