package io.github.transformers4j.recipes;

import io.github.transformers4j.data.vision.ImageFolder;
import io.github.transformers4j.data.vision.transforms.Mixup;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.train.EarlyStopping;
import io.github.transformers4j.train.Monitor;
import io.github.transformers4j.train.ModelEma;
import io.github.transformers4j.train.Optimizers;
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
 * @param augment      random crop (padding {@code cropPadding}) and horizontal flip of training images
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
 * @param labelSmoothing the training loss's label smoothing (PyTorch's {@code CrossEntropyLoss(label_smoothing=)});
 *                     validation and test losses are plain cross-entropy, comparable across runs (0: none)
 * @param mixup        α of mixup's Beta(α, α) on the training batches (0: none; {@link Mixup})
 * @param cutmix       α of CutMix's Beta(α, α) (0: none); with both on, half of the batches take CutMix
 * @param dropPath     stochastic depth rate of a ViT's blocks, as timm's {@code drop_path_rate}: 0 at the first block
 *                     rising to this at the last (0: none; {@code VisionTransformer.dropPath})
 * @param ema          decay of an exponential moving average of the weights ({@link ModelEma}), which validation, the
 *                     test pass and the checkpoints' evaluation weights use (0: none)
 */
public record RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                        Optimizers.Algorithm optimizer, double weightDecay, double warmup, Optimizers.Schedule schedule, long seed,
                        double valSplit, int limitTrain, String device, int logEvery, Monitor monitor, int patience, double clipGradNorm,
                        int workers, boolean augment, String initFrom, boolean freezeEncoder, String precision,
                        int imageSize, String background, boolean skipBadImages, int gradientAccumulation, int evalSteps,
                        int saveSteps, int saveTotalLimit, double labelSmoothing, double mixup, double cutmix, double dropPath, double ema,
                        int cropPadding, double randomErasing) {
    /** A run with one micro-batch per step and evaluation and checkpoints per epoch. */
    public RunConfig(String model, String dataset, String dataDir, int epochs, int batchSize, double lr,
                     String optimizer, double weightDecay, double warmup, String schedule, long seed, double valSplit,
                     int limitTrain, String device, int logEvery, String monitor, int patience, double clipGradNorm,
                     int workers, boolean augment, String initFrom, boolean freezeEncoder, String precision,
                     int imageSize, String background, boolean skipBadImages) {
        this(model, dataset, dataDir, epochs, batchSize, lr, Optimizers.Algorithm.parse(optimizer), weightDecay, warmup,
                Optimizers.Schedule.parse(schedule), seed, valSplit, limitTrain, device, logEvery, Monitor.parse(monitor), patience,
                clipGradNorm, workers, augment, initFrom, freezeEncoder, precision, imageSize, background, skipBadImages, 1, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0);
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
        require(labelSmoothing >= 0 && labelSmoothing < 1, "--label-smoothing must be in [0, 1), got " + labelSmoothing);
        Mixup.of(mixup, cutmix); // checks both
        require(dropPath >= 0 && dropPath < 1, "--drop-path must be in [0, 1), got " + dropPath);
        require(ema >= 0 && ema < 1, "--ema must be in [0, 1), got " + ema);
        if (cropPadding == 0) cropPadding = 4; // configs written before the option
        require(cropPadding >= 1, "--crop-padding must be >= 1, got " + cropPadding);
        require(randomErasing >= 0 && randomErasing <= 1, "--random-erasing must be in [0, 1], got " + randomErasing);
        require(imageSize >= 0, "--image-size must be positive (or 0 for the data set's size), got " + imageSize);
        background = ImageFolder.Background.parse(background).name().toLowerCase(Locale.ROOT); // older configs: white
        precision = precision == null ? "fp32" : precision.toLowerCase(Locale.ROOT); // configs written before the option: fp32
        Autocast.parse(precision);
        require(optimizer != null && schedule != null && monitor != null, "--optimizer, --schedule and --monitor must be given");
        require(device.equals("cpu") || device.startsWith("cuda"), "--device must be cpu or cuda[:N], got '" + device + "'");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** The defaults of {@code t4j train}: vit-mini-p4 on Fashion-MNIST, AdamW 1e-3, 5% warm-up, cosine, batch 128. */
    public static RunConfig defaults() {
        return new RunConfig("vit-mini-p4", "fashion-mnist", null, 3, 128, 1e-3, "adamw", 0.05, 0.05, "cosine", 42, 0.1,
                0, "cpu", 10, "val_loss", 0, 1.0, 1, false);
    }

    /** A builder starting from {@link #defaults()}: {@code RunConfig.builder().model("vit-tiny-p4").epochs(10).build()}. */
    public static Builder builder() {
        return defaults().toBuilder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.model = model;
        b.dataset = dataset;
        b.dataDir = dataDir;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.lr = lr;
        b.optimizer = optimizer;
        b.weightDecay = weightDecay;
        b.warmup = warmup;
        b.schedule = schedule;
        b.seed = seed;
        b.valSplit = valSplit;
        b.limitTrain = limitTrain;
        b.device = device;
        b.logEvery = logEvery;
        b.monitor = monitor;
        b.patience = patience;
        b.clipGradNorm = clipGradNorm;
        b.workers = workers;
        b.augment = augment;
        b.initFrom = initFrom;
        b.freezeEncoder = freezeEncoder;
        b.precision = precision;
        b.imageSize = imageSize;
        b.background = background;
        b.skipBadImages = skipBadImages;
        b.gradientAccumulation = gradientAccumulation;
        b.evalSteps = evalSteps;
        b.saveSteps = saveSteps;
        b.saveTotalLimit = saveTotalLimit;
        b.labelSmoothing = labelSmoothing;
        b.mixup = mixup;
        b.cutmix = cutmix;
        b.dropPath = dropPath;
        b.ema = ema;
        b.cropPadding = cropPadding;
        b.randomErasing = randomErasing;
        return b;
    }

    /** Options by name (as the record's components); {@link #build()} checks them as the constructor does. */
    public static final class Builder {
        private String model;
        private String dataset;
        private String dataDir;
        private int epochs;
        private int batchSize;
        private double lr;
        private Optimizers.Algorithm optimizer;
        private double weightDecay;
        private double warmup;
        private Optimizers.Schedule schedule;
        private long seed;
        private double valSplit;
        private int limitTrain;
        private String device;
        private int logEvery;
        private Monitor monitor;
        private int patience;
        private double clipGradNorm;
        private int workers;
        private boolean augment;
        private String initFrom;
        private boolean freezeEncoder;
        private String precision;
        private int imageSize;
        private String background;
        private boolean skipBadImages;
        private int gradientAccumulation;
        private int evalSteps;
        private int saveSteps;
        private int saveTotalLimit;
        private double labelSmoothing, mixup, cutmix, dropPath, ema;
        private int cropPadding;
        private double randomErasing;

        public Builder model(String v) { model = v; return this; }
        public Builder dataset(String v) { dataset = v; return this; }
        public Builder dataDir(String v) { dataDir = v; return this; }
        public Builder epochs(int v) { epochs = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder optimizer(Optimizers.Algorithm v) { optimizer = v; return this; }
        public Builder optimizer(String v) { return optimizer(Optimizers.Algorithm.parse(v)); }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder warmup(double v) { warmup = v; return this; }
        public Builder schedule(Optimizers.Schedule v) { schedule = v; return this; }
        public Builder schedule(String v) { return schedule(Optimizers.Schedule.parse(v)); }
        public Builder seed(long v) { seed = v; return this; }
        public Builder valSplit(double v) { valSplit = v; return this; }
        public Builder limitTrain(int v) { limitTrain = v; return this; }
        public Builder device(String v) { device = v; return this; }
        public Builder logEvery(int v) { logEvery = v; return this; }
        public Builder monitor(Monitor v) { monitor = v; return this; }
        public Builder monitor(String v) { return monitor(Monitor.parse(v)); }
        public Builder patience(int v) { patience = v; return this; }
        public Builder clipGradNorm(double v) { clipGradNorm = v; return this; }
        public Builder workers(int v) { workers = v; return this; }
        public Builder augment(boolean v) { augment = v; return this; }
        public Builder initFrom(String v) { initFrom = v; return this; }
        public Builder freezeEncoder(boolean v) { freezeEncoder = v; return this; }
        public Builder precision(String v) { precision = v; return this; }
        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder background(String v) { background = v; return this; }
        public Builder skipBadImages(boolean v) { skipBadImages = v; return this; }
        public Builder gradientAccumulation(int v) { gradientAccumulation = v; return this; }
        public Builder evalSteps(int v) { evalSteps = v; return this; }
        public Builder saveSteps(int v) { saveSteps = v; return this; }
        public Builder saveTotalLimit(int v) { saveTotalLimit = v; return this; }
        public Builder labelSmoothing(double v) { labelSmoothing = v; return this; }
        public Builder mixup(double v) { mixup = v; return this; }
        public Builder cutmix(double v) { cutmix = v; return this; }
        public Builder dropPath(double v) { dropPath = v; return this; }
        public Builder ema(double v) { ema = v; return this; }
        public Builder cropPadding(int v) { cropPadding = v; return this; }
        public Builder randomErasing(double v) { randomErasing = v; return this; }

        public RunConfig build() {
            return new RunConfig(model, dataset, dataDir, epochs, batchSize, lr, optimizer, weightDecay, warmup, schedule, seed, valSplit, limitTrain, device, logEvery, monitor, patience, clipGradNorm, workers, augment, initFrom, freezeEncoder, precision, imageSize, background, skipBadImages, gradientAccumulation, evalSteps, saveSteps, saveTotalLimit, labelSmoothing, mixup, cutmix, dropPath, ema, cropPadding, randomErasing);
        }
    }

    /** This run on another data set or data folder (evaluation of a checkpoint on other data). */
    public RunConfig withData(String dataset, String dataDir) {
        return toBuilder().dataset(dataset).dataDir(dataDir).build();
    }

    /** This run trained for {@code epochs} epochs (a finished run extended on resume). */
    public RunConfig withEpochs(int epochs) {
        return toBuilder().epochs(epochs).build();
    }

    /** This run with the loop's step options: gradient accumulation, evaluation and checkpoints every N steps. */
    public RunConfig withSteps(int gradientAccumulation, int evalSteps, int saveSteps, int saveTotalLimit) {
        return toBuilder().gradientAccumulation(gradientAccumulation).evalSteps(evalSteps).saveSteps(saveSteps)
                .saveTotalLimit(saveTotalLimit).build();
    }

    /** Optimizer steps per epoch over {@code batches} micro-batches. */
    public long stepsPerEpoch(int batches) {
        return Math.ceilDiv(batches, gradientAccumulation);
    }

    /**
     * The training loop's configuration of this run: its epochs, rows, monitor (val_ becomes train_ without
     * validation data), patience and step options; {@code session} adds the bar, the time limit and CUDA graphs.
     */
    public TrainingLoop.Config loopConfig(boolean hasValidation, boolean progress, double timeLimitSeconds, boolean cudaGraphs) {
        String m = hasValidation ? monitor.toString() : monitor.toString().replace("val_", "train_");
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
