package io.github.transformers4j.train;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.text.Seq2SeqBatch;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Trains an encoder-decoder model with teacher forcing, as {@link Trainer} does for images and with the same run
 * folder (config.json, metrics.csv/.jsonl, train.log, checkpoints/last|best.safetensors, loss.png, accuracy.png):
 * per step the cross-entropy of the next token over the non-padding label positions; per epoch the token-weighted mean
 * training loss and token accuracy, and the same on the validation set (eval mode, no gradients). In metrics.csv the
 * accuracy columns hold token accuracy (argmax of the logits equals the label).
 *
 * <p>Checkpoints carry the model, the optimizer state, the RNG counter, the run's config.json and the tokenizer
 * ({@code tokenizer} metadata: the tokenizer.json text), so a checkpoint alone can summarize; {@code resume}
 * continues after the last completed epoch.
 */
public final class Seq2SeqTrainer {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** Loss and token accuracy over a data set. */
    public record Evaluation(double loss, double tokenAccuracy, long tokens, double seconds) {
        public double tokensPerSecond() {
            return tokens / Math.max(seconds, 1e-9);
        }
    }

    private final Seq2SeqTransformer model;
    private final Optimization optimization;
    private final Random4j rng;
    private final Path runDir;
    private final Trainer.Config config;
    private final Map<String, String> meta;
    private final PrintStream out;
    private Device device = Device.CPU;
    private DType autocast;
    private long globalStep;
    private double timeLimitSeconds;

    /** @param meta metadata stored in every checkpoint (config, tokenizer, task) */
    public Seq2SeqTrainer(Seq2SeqTransformer model, Optimization optimization, Random4j rng, Path runDir, Trainer.Config config,
                          Map<String, String> meta, PrintStream out) {
        this.model = model;
        this.optimization = optimization;
        this.rng = rng;
        this.runDir = runDir;
        this.config = config;
        this.meta = meta;
        this.out = out;
    }

    /** Mixed precision for the forward pass and loss ({@link Autocast}; null = fp32); the backward and the optimizer run outside it. */
    public Seq2SeqTrainer precision(DType autocast) {
        this.autocast = autocast;
        return this;
    }

    public Seq2SeqTrainer onDevice(Device d) {
        this.device = d;
        return this;
    }

    /**
     * A wall-clock budget for {@link #fit} in seconds (0 = none): no epoch starts that would, at the last epoch's pace,
     * end past it. The learning-rate schedule still spans all epochs, so a stopped run ends before its decay does.
     */
    public Seq2SeqTrainer timeLimit(double seconds) {
        if (!(seconds >= 0)) throw new IllegalArgumentException("time limit must be >= 0 seconds, got " + seconds);
        this.timeLimitSeconds = seconds;
        return this;
    }

    public long globalStep() {
        return globalStep;
    }

    public FitResult fit(DataLoader<?, Seq2SeqBatch> train, DataLoader<?, Seq2SeqBatch> val, boolean resume) {
        long fitStart = System.nanoTime();
        String monitor = val == null && config.monitor().startsWith("val_") ? config.monitor().replace("val_", "train_") : config.monitor();
        EarlyStopping early = new EarlyStopping(monitor, config.mode(), config.patience(), 0);
        int firstEpoch = 1;
        globalStep = 0;
        Path last = runDir.resolve(Trainer.LAST);
        MetricsLog log;
        if (resume && Files.isRegularFile(last)) {
            Checkpoint ck = Checkpoint.load(last);
            model.loadStateDict(ck.model(), true);
            optimization.loadState(ck.optimizer(), ck.require("optimizer"));
            long seed = Long.parseLong(ck.require("rng_seed"));
            if (seed != rng.seed()) throw new IllegalArgumentException("resume: the checkpoint's seed " + seed + " differs from " + rng.seed());
            rng.setCounter(Long.parseLong(ck.require("rng_counter")));
            early.restore(ck.require("early_stopping"));
            globalStep = ck.globalStep();
            firstEpoch = ck.epoch() + 1;
            log = MetricsLog.resume(runDir, ck.epoch());
            say(String.format(Locale.ROOT, "resuming from %s: epoch %d done, step %d", last, ck.epoch(), globalStep));
        } else {
            log = MetricsLog.create(runDir);
        }
        List<EpochResult> results = new ArrayList<>();
        int epoch = firstEpoch;
        boolean stopped = false;
        try (log) {
            for (; epoch <= config.epochs(); epoch++) {
                results.add(runEpoch(epoch, train, val, log, early));
                if (early.shouldStop() && epoch < config.epochs()) {
                    say(String.format(Locale.ROOT, "early stop: %s has not improved for %d epochs (best %.4f at epoch %d)", monitor,
                            early.badEpochs(), early.best(), early.bestEpoch()));
                    stopped = true;
                    epoch++;
                    break;
                }
                double elapsed = (System.nanoTime() - fitStart) / 1e9, pace = results.getLast().seconds();
                if (timeLimitSeconds > 0 && epoch < config.epochs() && elapsed + pace > timeLimitSeconds) {
                    say(String.format(Locale.ROOT, "time limit: %.0f s used of %.0f s; the next epoch (about %.0f s) would end past it: "
                            + "stopping after epoch %d of %d", elapsed, timeLimitSeconds, pace, epoch, config.epochs()));
                    stopped = true;
                    epoch++;
                    break;
                }
            }
        }
        return new FitResult(List.copyOf(results), epoch - 1, early.bestEpoch(), early.best(), stopped, (System.nanoTime() - fitStart) / 1e9);
    }

    private EpochResult runEpoch(int epoch, DataLoader<?, Seq2SeqBatch> train, DataLoader<?, Seq2SeqBatch> val, MetricsLog log,
                                 EarlyStopping early) {
        long t0 = System.nanoTime();
        model.train();
        int steps = train.numBatches(), done = 0, windowSteps = 0;
        double lossSum = 0, windowLoss = 0, lr = 0;
        long correct = 0, tokens = 0, allTokens = 0;
        try (Progress bar = Progress.start(config.progress(), String.format("epoch %d/%d", epoch, config.epochs()), steps, System.err)) {
            for (Seq2SeqBatch batch : train.epoch(epoch)) {
                lr = optimization.lr(globalStep);
                double loss;
                long[] acc;
                try (var scope = Memory.scope(); batch) {
                    optimization.zeroGrad();
                    Tensor labels = batch.labels().to(device), logits, lossT;
                    try (var ac = Autocast.enable(autocast)) {
                        logits = model.forward(batch.inputIds().to(device), batch.decoderInputIds().to(device));
                        lossT = Seq2SeqTransformer.loss(logits, labels);
                    }
                    lossT.backward();
                    optimization.step(globalStep);
                    loss = lossT.item();
                    acc = tokenAccuracy(logits, labels);
                }
                if (!Double.isFinite(loss))
                    throw new IllegalStateException(String.format(Locale.ROOT, "training diverged: loss %s at epoch %d step %d (lr %.3g); "
                            + "try a lower --lr or a longer --warmup", loss, epoch, globalStep + 1, lr));
                globalStep++;
                done++;
                lossSum += loss * acc[1];
                correct += acc[0];
                tokens += acc[1];
                allTokens += batch.sourceTokens() + batch.targetTokens();
                windowLoss += loss;
                windowSteps++;
                if (windowSteps == config.logEvery() || done == steps) {
                    log.log(MetricsRow.step(epoch, globalStep, lr, windowLoss / windowSteps),
                            Map.of("time", now(), "elapsed_s", round((System.nanoTime() - t0) / 1e9)));
                    windowLoss = 0;
                    windowSteps = 0;
                }
                bar.step(lossSum / Math.max(1, tokens));
            }
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        double trainLoss = tokens == 0 ? Double.NaN : lossSum / tokens, trainAcc = tokens == 0 ? Double.NaN : (double) correct / tokens;
        Evaluation v = val == null ? null : evaluate(model, val, device);
        double valLoss = v == null ? Double.NaN : v.loss(), valAcc = v == null ? Double.NaN : v.tokenAccuracy();
        double seconds = (System.nanoTime() - t0) / 1e9, tps = allTokens / trainSeconds;
        boolean best = early.update(epoch, new EpochResult(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc, seconds, tps, false)
                .get(early.monitor()));
        EpochResult r = new EpochResult(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc, seconds, tps, best);
        LinkedHashMap<String, Object> extra = new LinkedHashMap<>();
        extra.put("time", now());
        extra.put("epoch_time_s", round(seconds));
        extra.put("train_time_s", round(trainSeconds));
        extra.put("tokens_per_s", round(tps));
        extra.put("best", best);
        log.log(MetricsRow.epoch(epoch, globalStep, lr, trainLoss, trainAcc, valLoss, valAcc), extra);
        Checkpoint ck = checkpoint(epoch, early);
        if (best) ck.save(runDir.resolve(Trainer.BEST));
        ck.save(runDir.resolve(Trainer.LAST));
        say(String.format(Locale.ROOT, "%s epoch %d/%d  train loss %.4f tok-acc %.2f%%%s  %.1f s  %.0f tok/s  lr %.3g%s",
                now(), epoch, config.epochs(), trainLoss, 100 * trainAcc,
                v == null ? "" : String.format(Locale.ROOT, "  val loss %.4f tok-acc %.2f%%", valLoss, 100 * valAcc), seconds, tps, lr,
                best ? "  *best*" : ""));
        try {
            Plots.writeRunPlots(runDir);
        } catch (RuntimeException | Error e) {
            say("warning: plots not written: " + e);
        }
        return r;
    }

    /** {correct, counted} over label positions that are not -100. */
    static long[] tokenAccuracy(Tensor logits, Tensor labels) {
        try (var g = Grad.disabled()) {
            Tensor valid = labels.ne(-100);
            Tensor hit = logits.detach().argmax(-1, false).eq(labels).logicalAnd(valid);
            return new long[] {(long) hit.to(DType.F64).sum().item(), (long) valid.to(DType.F64).sum().item()};
        }
    }

    /** Token-weighted loss and accuracy in eval mode without gradients; the model's mode is restored. */
    public static Evaluation evaluate(Seq2SeqTransformer model, DataLoader<?, Seq2SeqBatch> loader, Device device) {
        long t0 = System.nanoTime();
        boolean was = model.isTraining();
        model.eval();
        double lossSum = 0;
        long correct = 0, tokens = 0, allTokens = 0;
        try (var g = Grad.disabled()) {
            for (Seq2SeqBatch batch : loader.epoch(0)) {
                try (var scope = Memory.scope(); batch) {
                    Tensor labels = batch.labels().to(device);
                    Tensor logits = model.forward(batch.inputIds().to(device), batch.decoderInputIds().to(device));
                    long[] acc = tokenAccuracy(logits, labels);
                    lossSum += Seq2SeqTransformer.loss(logits, labels).item() * acc[1];
                    correct += acc[0];
                    tokens += acc[1];
                    allTokens += batch.sourceTokens() + batch.targetTokens();
                }
            }
        } finally {
            model.train(was);
        }
        return new Evaluation(tokens == 0 ? Double.NaN : lossSum / tokens, tokens == 0 ? Double.NaN : (double) correct / tokens, allTokens,
                (System.nanoTime() - t0) / 1e9);
    }

    private Checkpoint checkpoint(int epoch, EarlyStopping early) {
        Map<String, String> m = new LinkedHashMap<>(meta);
        m.put("epoch", String.valueOf(epoch));
        m.put("global_step", String.valueOf(globalStep));
        m.put("rng_seed", String.valueOf(rng.seed()));
        m.put("rng_counter", String.valueOf(rng.counter()));
        m.put("optimizer", optimization.stateJson());
        m.put("early_stopping", early.state());
        m.put("monitor", early.monitor());
        return new Checkpoint(model.stateDict(), optimization.stateTensors(), m);
    }

    public void say(String line) {
        out.println(line);
        out.flush();
        try {
            Files.createDirectories(runDir);
            Files.writeString(runDir.resolve("train.log"), line + "\n", java.nio.charset.StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException ignored) {
            // the log file is a convenience; the line was printed
        }
    }

    private static String now() {
        return LocalDateTime.now().format(TIME);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
