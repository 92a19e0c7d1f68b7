package io.github.transformers4j.train;

import io.github.transformers4j.data.vision.ImageFolder;
import io.github.transformers4j.tensor.Autocast;
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
 */
public record RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                        String optimizer, double weightDecay, double warmup, String schedule, long seed, double valSplit,
                        int limitTrain, String device, int logEvery, String monitor, int patience, double clipGradNorm,
                        int workers, boolean augment, String initFrom, boolean freezeEncoder, String precision,
                        int imageSize, String background, boolean skipBadImages) {
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
                imageSize, background, skipBadImages);
    }

    /** This run trained for {@code epochs} epochs (a finished run extended on resume). */
    public RunConfig withEpochs(int epochs) {
        return new RunConfig(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit,
                limitTrain, device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, precision,
                imageSize, background, skipBadImages);
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
