package io.github.transformers4j.recipes;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.vision.transforms.Mixup;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.Reduction;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.AtomicFiles;
import io.github.transformers4j.train.Checkpoint;
import io.github.transformers4j.train.ConfusionMatrix;
import io.github.transformers4j.train.Evaluation;
import io.github.transformers4j.train.MetricsLog;
import io.github.transformers4j.train.MetricsRow;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Plots;
import io.github.transformers4j.train.Progress;
import io.github.transformers4j.train.Task;
import io.github.transformers4j.train.TrainingLoop;
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
 * Image classification for {@link TrainingLoop}: cross-entropy over the classifier's logits, accuracy, and the test pass
 * of a finished run. With the loop's standard callbacks a run folder gets:
 * <pre>
 * RUN/config.json                  the run's configuration (written by the recipe, copied into checkpoints)
 * RUN/metrics.csv, metrics.jsonl   per-step and per-epoch rows; RUN/tensorboard/ the same as TensorBoard events
 * RUN/train.log                    the summary lines printed during training
 * RUN/checkpoints/last.safetensors after every epoch; best.safetensors when the monitored metric improves
 * RUN/loss.png, accuracy.png, confusion_matrix.png, test_report.txt, test_predictions.csv
 * </pre>
 * The two stages stay apart: training runs the model in train mode, records gradients and updates;
 * {@linkplain #evaluate evaluation} runs it in eval mode under {@link Grad#disabled()} and never updates.
 */
public final class ImageClassificationTask implements Task<Batch> {
    private final ImageClassifier model;
    private final String configJson;
    private final double labelSmoothing;
    private final Mixup mixup;
    private final Random4j rng;

    /** @param configJson the run configuration stored in checkpoints (normally config.json's text) */
    public ImageClassificationTask(ImageClassifier model, String configJson) {
        this(model, configJson, 0, null, null);
    }

    /**
     * @param labelSmoothing the training loss's label smoothing, as PyTorch's {@code cross_entropy(label_smoothing=)};
     *                       evaluation reports the plain cross-entropy
     * @param mixup          mixup / CutMix of the training batches, or null (or not {@linkplain Mixup#enabled enabled})
     * @param rng            the training loop's generator (its state is checkpointed): each mixed batch reserves one
     *                       block of it to seed its draw; may be null without mixup
     */
    public ImageClassificationTask(ImageClassifier model, String configJson, double labelSmoothing, Mixup mixup, Random4j rng) {
        this.model = model;
        this.configJson = configJson;
        this.labelSmoothing = labelSmoothing;
        this.mixup = mixup != null && mixup.enabled() ? mixup : null;
        if (this.mixup != null && rng == null) throw new IllegalArgumentException("mixup needs the training loop's generator");
        this.rng = rng;
    }

    @Override
    public ImageClassifier module() { return model; }

    /**
     * Images and labels; with mixup also the partner of each image, the draw's mask and λ (made here, on the host, so
     * that a captured step replays each batch with its own draw).
     */
    @Override
    public Tensor[] inputs(Batch b) {
        if (mixup == null) return new Tensor[] {b.images(), b.labels()};
        Tensor images = b.images();
        int h = images.size(2), w = images.size(3);
        long block = rng.reserve(4);
        Mixup.Draw d = mixup.draw(SampleRng.of(rng.seed(), block, -3), h, w);
        return new Tensor[] {images, b.labels(), Mixup.pairs(b.size()), d.mask(h, w), Tensor.of(new float[] {(float) d.lambda()})};
    }

    @Override
    public long[] counts(Batch b) {
        return new long[] {b.size(), b.size()};
    }

    /** Mixed batches (5 inputs): λ CE(logits, y) + (1 - λ) CE(logits, y of the partners); accuracy against y. */
    @Override
    public Output forward(Tensor[] in) {
        Tensor logits, loss;
        if (in.length == 5) {
            Tensor pairs = in[2], m = in[3], lam = in[4];
            logits = model.forward(in[0].mul(m).add(in[0].indexSelect(0, pairs).mul(m.neg().add(1))));
            loss = loss(logits, in[1]).mul(lam).add(loss(logits, in[1].indexSelect(0, pairs)).mul(lam.neg().add(1)));
        } else {
            logits = model.forward(in[0]);
            loss = loss(logits, in[1]);
        }
        try (var g = Grad.disabled()) {
            return new Output(loss, logits.detach().argmax(1, false).eq(in[1]).to(DType.F64).sum(), null);
        }
    }

    private Tensor loss(Tensor logits, Tensor labels) {
        return F.crossEntropy(logits, labels, -100, labelSmoothing, Reduction.MEAN);
    }

    @Override
    public Validation validate(DataLoader<?, Batch> val, Device device, boolean progress) {
        Evaluation v = evaluate(model, val, model.numClasses(), 0, device, progress ? "validate" : null);
        return new Validation(v.loss(), v.accuracy(), Map.of("val_images_per_s", v.imagesPerSecond()));
    }

    @Override
    public Map<String, String> checkpointMeta() {
        return Map.of("config", configJson);
    }

    // ---------------------------------------------------------------------------------------------- evaluation

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
                    lossSum += F.crossEntropy(logits, batch.labels().to(device)).item() * batch.size();
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
     * The test pass after training: loads the best checkpoint's weights (the last epoch's when there is none; with
     * {@code --ema} the moving average),
     * evaluates, prints the confusion matrix and per-class table, writes test_report.txt, test_predictions.csv and
     * confusion_matrix.png, and adds a test row to the metrics.
     */
    public Evaluation test(TrainingLoop<Batch> loop, DataLoader<?, Batch> test, List<String> classNames) {
        Path runDir = loop.runDir();
        Device device = loop.device();
        Path best = runDir.resolve(TrainingLoop.BEST);
        int epoch;
        String which;
        Optimization.Restore weights; // with --ema, the moving average: the checkpoint's evaluation weights, or put in place
        if (Files.isRegularFile(best)) {
            Checkpoint ck = Checkpoint.load(best);
            model.loadStateDict(ck.weights(), true);
            epoch = ck.epoch();
            which = "best checkpoint (epoch " + epoch + ", by " + ck.meta("monitor") + ")";
            weights = () -> {};
        } else {
            epoch = (int) Math.max(0, MetricsLog.read(runDir).stream().mapToInt(MetricsRow::epoch).max().orElse(0));
            which = "final weights";
            weights = loop.evaluationWeights();
        }
        io.github.transformers4j.tensor.Backends.of(device).emptyCache();
        Evaluation e;
        try (weights) {
            e = evaluate(model, test, model.numClasses(), 0, device, loop.config().progress() ? "test" : null);
        }
        String report = testReport(e, classNames, which);
        loop.say(report);
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
            loop.say("warning: plots not written: " + ex);
        }
        try (MetricsLog log = MetricsLog.appendTo(runDir)) {
            long step = loop.globalStep();
            log.log(MetricsRow.test(epoch, step, e.loss(), e.accuracy()),
                    Map.of("time", TrainingLoop.now(), "test_time_s", TrainingLoop.round(e.seconds()), "images_per_s",
                            TrainingLoop.round(e.imagesPerSecond()), "checkpoint", which));
            log.image("test/confusion_matrix", step, runDir.resolve(Plots.CONFUSION));
            log.text("test/report", step, "```\n" + report + "\n```");
        }
        try {
            Plots.writeRunPlots(runDir);
        } catch (RuntimeException | Error ex) {
            loop.say("warning: plots not written: " + ex);
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
}
