package io.github.transformers4j.recipes;

import io.github.transformers4j.train.*;
import io.github.transformers4j.data.vision.ImageFolder;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.train.EarlyStopping;
import io.github.transformers4j.train.TrainingLoop;
import java.util.Locale;

/**
 * The options of an image-classification training run ({@code t4j train}); saved in config.json and in every
 * checkpoint, so a run can be resumed or evaluated from its folder alone.
 *
 * @param warmup       linear warm-up: a fraction of all steps when below 1 (0.1 = 10%), else a number of steps
 * @param valSplit     fraction of the training set held out for validation (0 for none)
 * @param limitTrain   use only this many training images (a seeded random subset; 0 for all)
 * @param monitor      metric that picks the best checkpoint and drives early stopping (val_loss, val_acc, ...)
 * @param patience     epochs without improvement of the monitor before stopping (0: never stop early)
 * @param clipGradNorm clip the global gradient norm to this value (0: no clipping)
 * @param workers      data-loader threads preparing batches ahead (0: on the training thread)
 * @param augment      random crop (padding 4) and horizontal flip of training images (for CIFAR-like data)
 * @param initFrom     a checkpoint whose weights start the model (null: random initialisation); for {@code mae-tiny}
 *                     a {@code t4j pretrain} checkpoint, whose encoder is loaded
 * @param freezeEncoder train only the head on a frozen encoder (linear probe); models with an encoder only
 * @param precision    fp32, or bf16: products with bf16 operands and fp32 accumulation, everything else fp32 (Autocast)
 * @param imageSize    images are resized (shorter side) and centre-cropped to this size; 0: the data set's own size
 *                     (image folders: the most common size)
 * @param background   white or black: what transparent pixels of image-folder images are composited on
 * @param skipBadImages leave unreadable image-folder files out instead of failing
 * @param gradientAccumulation micro-batches of {@code batchSize} per optimizer step (1: none)
 * @param evalSteps    a validation pass every this many optimizer steps besides every epoch's end (0: epochs only)
 * @param saveSteps    the last checkpoint every this many steps besides every epoch's end (0: epochs only)
 * @param saveTotalLimit step snapshots kept with saveSteps (0: none, -1: all)
 */
public record RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                        String optimizer, double weightDecay, double warmup, String schedule, long seed, double valSplit,
                        int limitTrain, String device, int logEvery, String monitor, int patience, double clipGradNorm,
                        int workers, boolean augment, String initFrom, boolean freezeEncoder, String precision,
                        int imageSize, String background, boolean skipBadImages, int gradientAccumulation, int evalSteps,
                        int saveSteps, int saveTotalLimit) {
    /** A run with one micro-batch per step and evaluation and checkpoints per epoch. */
    public RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                     String optimizer, double weightDecay, double warmup, String schedule, long seed, double valSplit,
                     int limitTrain, String device, int logEvery, String monitor, int patience, double clipGradNorm,
                     int workers, boolean augment, String initFrom, boolean freezeEncoder, String precision,
                     int imageSize, String background, boolean skipBadImages) {
        this(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit, limitTrain,
                device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, precision, imageSize,
                background, skipBadImages, 1, 0, 0, 0);
    }

    /** A run with the data set's own image size, transparent pixels on white. */
    public RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                     String optimizer, double weightDecay, double warmup, String schedule, long seed, double valSplit,
                     int limitTrain, String device, int logEvery, String monitor, int patience, double clipGradNorm,
                     int workers, boolean augment, String initFrom, boolean freezeEncoder, String precision) {
        this(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit, limitTrain,
                device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, precision, 0, "white", false);
    }

    /** A run that starts from random weights and trains everything. */
    public RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                     String optimizer, double weightDecay, double warmup, String schedule, long seed, double valSplit,
                     int limitTrain, String device, int logEvery, String monitor, int patience, double clipGradNorm,
                     int workers, boolean augment) {
        this(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit, limitTrain,
                device, logEvery, monitor, patience, clipGradNorm, workers, augment, null, false, "fp32");
    }

    /** A run in fp32. */
    public RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                     String optimizer, double weightDecay, double warmup, String schedule, long seed, double valSplit,
                     int limitTrain, String device, int logEvery, String monitor, int patience, double clipGradNorm,
                     int workers, boolean augment, String initFrom, boolean freezeEncoder) {
        this(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit, limitTrain,
                device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, "fp32");
    }

    public RunConfig {
        require(epochs > 0, "--epochs must be positive, got " + epochs);
        require(batchSize > 0, "--batch-size must be positive, got " + batchSize);
        require(lr > 0 && Double.isFinite(lr), "--lr must be positive, got " + lr);
        require(weightDecay >= 0, "--weight-decay must be >= 0, got " + weightDecay);
        require(warmup >= 0, "--warmup must be >= 0, got " + warmup);
        require(valSplit >= 0 && valSplit < 1, "--val-split must be in [0, 1), got " + valSplit);
        require(limitTrain >= 0, "--limit-train must be >= 0, got " + limitTrain);
        require(logEvery > 0, "--log-every must be positive, got " + logEvery);
        require(patience >= 0, "--patience must be >= 0, got " + patience);
        require(clipGradNorm >= 0, "--clip-grad-norm must be >= 0, got " + clipGradNorm);
        require(workers >= 0, "--workers must be >= 0, got " + workers);
        if (gradientAccumulation == 0) gradientAccumulation = 1; // configs written before the option
        require(gradientAccumulation >= 1, "--gradient-accumulation must be >= 1, got " + gradientAccumulation);
        require(evalSteps >= 0, "--eval-steps must be >= 0, got " + evalSteps);
        require(saveSteps >= 0, "--save-steps must be >= 0, got " + saveSteps);
        require(saveTotalLimit >= -1, "--save-total-limit must be >= -1, got " + saveTotalLimit);
        require(imageSize >= 0, "--image-size must be positive (or 0 for the data set's size), got " + imageSize);
        background = ImageFolder.Background.parse(background).name().toLowerCase(Locale.ROOT); // older configs: white
        precision = precision == null ? "fp32" : precision.toLowerCase(Locale.ROOT); // configs written before the option: fp32
        Autocast.parse(precision);
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        schedule = schedule.toLowerCase(Locale.ROOT);
        require(optimizer.equals("adamw") || optimizer.equals("adam") || optimizer.equals("sgd"),
                "--optimizer must be adamw, adam or sgd, got '" + optimizer + "'");
        require(schedule.equals("cosine") || schedule.equals("linear") || schedule.equals("step") || schedule.equals("constant"),
                "--schedule must be cosine, linear, step or constant, got '" + schedule + "'");
        require(device.equals("cpu") || device.startsWith("cuda"), "--device must be cpu or cuda[:N], got '" + device + "'");
        require(monitor.equals("val_loss") || monitor.equals("val_acc") || monitor.equals("train_loss") || monitor.equals("train_acc"),
                "--monitor must be val_loss, val_acc, train_loss or train_acc, got '" + monitor + "'");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** The defaults of {@code t4j train}: vit-mini-p4 on Fashion-MNIST, AdamW 1e-3, 5% warm-up, cosine, batch 128. */
    public static RunConfig defaults() {
        return new RunConfig("vit-mini-p4", "fashion-mnist", null, 3, 128, 1e-3, "adamw", 0.05, 0.05, "cosine", 42, 0.1,
                0, "cpu", 10, "val_loss", 0, 1.0, 1, false);
    }

    /** This run on another data set or data folder (evaluation of a checkpoint on other data). */
    public RunConfig withData(String dataset, String dataDir) {
        return new RunConfig(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit,
                limitTrain, device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, precision,
                imageSize, background, skipBadImages, gradientAccumulation, evalSteps, saveSteps, saveTotalLimit);
    }

    /** This run trained for {@code epochs} epochs (a finished run extended on resume). */
    public RunConfig withEpochs(int epochs) {
        return new RunConfig(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit,
                limitTrain, device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, precision,
                imageSize, background, skipBadImages, gradientAccumulation, evalSteps, saveSteps, saveTotalLimit);
    }

    /** This run with the loop's step options: gradient accumulation, evaluation and checkpoints every N steps. */
    public RunConfig withSteps(int gradientAccumulation, int evalSteps, int saveSteps, int saveTotalLimit) {
        return new RunConfig(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit,
                limitTrain, device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, precision,
                imageSize, background, skipBadImages, gradientAccumulation, evalSteps, saveSteps, saveTotalLimit);
    }

    /** Optimizer steps per epoch over {@code batches} micro-batches. */
    public long stepsPerEpoch(int batches) {
        return (batches + gradientAccumulation - 1) / gradientAccumulation;
    }

    /**
     * The training loop's configuration of this run: its epochs, rows, monitor (val_ becomes train_ without
     * validation data), patience and step options; {@code session} adds the bar, the time limit and CUDA graphs.
     */
    public TrainingLoop.Config loopConfig(boolean hasValidation, boolean progress, double timeLimitSeconds, boolean cudaGraphs) {
        String m = hasValidation ? monitor : monitor.replace("val_", "train_");
        return TrainingLoop.Config.builder().epochs(epochs).logEvery(logEvery).progress(progress)
                .monitor(m, EarlyStopping.defaultMode(m)).patience(patience).gradientAccumulation(gradientAccumulation)
                .evalSteps(evalSteps).saveSteps(saveSteps).saveTotalLimit(saveTotalLimit).timeLimitSeconds(timeLimitSeconds)
                .cudaGraphs(cudaGraphs).build();
    }

    /** How image folders are read for this run (RGB; one channel is never asked by the presets). */
    public ImageFolder.Options imageFolderOptions() {
        return new ImageFolder.Options(3, ImageFolder.Background.parse(background), skipBadImages);
    }

    /** Warm-up length in steps for a run of {@code totalSteps}. */
    public long warmupSteps(long totalSteps) {
        return warmup < 1 ? (long) Math.ceil(warmup * totalSteps) : Math.min((long) warmup, totalSteps);
    }
}
