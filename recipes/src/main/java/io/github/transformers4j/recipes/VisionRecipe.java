package io.github.transformers4j.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.DataLocator;
import io.github.transformers4j.data.Dataset;
import io.github.transformers4j.data.Datasets;
import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Subset;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.ImageClassificationDataset;
import io.github.transformers4j.data.vision.ImageFolder;
import io.github.transformers4j.data.vision.InMemoryImageDataset;
import io.github.transformers4j.data.vision.LabeledImage;
import io.github.transformers4j.data.vision.VisionDatasets.Split;
import io.github.transformers4j.data.vision.transforms.Mixup;
import io.github.transformers4j.data.vision.VisionDatasets;
import io.github.transformers4j.data.vision.transforms.Transforms;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.models.hf.HfImageClassifier;
import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.cpu.Parallel;
import io.github.transformers4j.train.AtomicFiles;
import io.github.transformers4j.train.Checkpoint;
import io.github.transformers4j.train.Evaluation;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.ModelEma;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Image classification end to end, as {@code t4j train} and {@code t4j eval} run it: open the data set, split off
 * a validation set, normalise with the training set's channel statistics, build the model preset, the optimizer and
 * the schedule, train with a {@link TrainingLoop}, and test the best checkpoint. Everything that defines the run goes to
 * {@code config.json} (and into every checkpoint), so {@link #evaluate} can rebuild the model and the data pipeline
 * from a checkpoint alone.
 */
public final class VisionRecipe {
    public static final String CONFIG = "config.json", FORMAT = "transformers4j-run-1";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private VisionRecipe() {}

    /**
     * What the data looks like after loading, saved with the run.
     *
     * @param mean per-channel means of the training images scaled to 0..1 (Normalize's numbers)
     */
    public record DataSpec(String name, int imageSize, int channels, List<String> classes, float[] mean, float[] std,
                           int trainSize, int valSize, int testSize) {}

    /** The opened splits (test is null when the data set has none) with their description. */
    public record Splits(Dataset<LabeledImage> train, Dataset<LabeledImage> val, Dataset<LabeledImage> test, DataSpec spec,
                         List<String> notes) {}

    /**
     * Options of one call that are not part of the run's definition.
     *
     * @param timeLimitMinutes stop training before an epoch that would end past this wall-clock budget (0 = none)
     * @param testLimit        the test pass after training: -1 none, 0 the whole test split, N a seeded random subset of N
     */
    public record Session(PrintStream out, boolean progress, double timeLimitMinutes, boolean cudaGraphs, int testLimit) {
        public Session(PrintStream out, boolean progress) {
            this(out, progress, 0, true, 0);
        }

        public Session(PrintStream out, boolean progress, double timeLimitMinutes) {
            this(out, progress, timeLimitMinutes, true, 0);
        }

        public Session(PrintStream out, boolean progress, double timeLimitMinutes, boolean cudaGraphs) {
            this(out, progress, timeLimitMinutes, cudaGraphs, 0);
        }

        /** The device as the run's summary line names it, with how a GPU runs its steps. */
        public String describe(Device device) {
            if (device.type() != Device.Type.CUDA) return device.toString();
            return device + (cudaGraphs ? " (steps captured as CUDA graphs)" : " (eager steps)");
        }
    }

    // --------------------------------------------------------------------------------------------------- data

    /**
     * For a Hugging Face model ({@code hf:DIR}): its image size and its processor's normalisation (preprocessor_config.json),
     * as a spec for {@link #openData}; null for other models.
     */
    static DataSpec hfInput(String model) {
        Path dir = HfImageClassifier.folder(model);
        if (dir == null) return null;
        int size = io.github.transformers4j.models.hf.HfModels.vitConfig(io.github.transformers4j.models.hf.HfCheckpoint.open(dir)).imageSize();
        var p = io.github.transformers4j.data.vision.ImageProcessor.fromPretrained(dir, size);
        if (p.height() != size || p.width() != size)
            throw new IllegalArgumentException(dir.resolve(io.github.transformers4j.data.vision.ImageProcessor.FILE) + ": resizes to " + p.height()
                    + "x" + p.width() + ", but the model takes " + size + "x" + size);
        return new DataSpec(model, size, p.imageMean().length, null, p.imageMean(), p.imageStd(), 0, 0, 0);
    }

    /** Opens and splits the data set of {@code cfg}; with {@code saved} (from a checkpoint) its normalisation is reused. */
    public static Splits openData(RunConfig cfg, DataSpec saved, boolean withTest) {
        return openData(cfg, saved, withTest ? 0 : -1);
    }

    /**
     * Opens and splits the data set of {@code cfg}; with {@code saved} (from a checkpoint) its image size and
     * normalisation are reused. {@code testLimit}: -1 no test split, 0 all of it, N a seeded random subset of N images.
     * An image folder's {@code val/} split is the validation set (no images are held out of train/ then).
     */
    public static Splits openData(RunConfig cfg, DataSpec saved, int testLimit) {
        DataLocator locator = DataLocator.standard(cfg.dataDir() == null ? null : Path.of(cfg.dataDir()));
        ImageFolder.Options folderOptions = cfg.imageFolderOptions();
        ImageClassificationDataset full = VisionDatasets.open(cfg.dataset(), Split.TRAIN, locator, folderOptions);
        if (full.size() == 0) throw new IllegalArgumentException(cfg.dataset() + ": the training split has no images");
        List<String> notes = new ArrayList<>();
        if (full instanceof ImageFolder f) notes.addAll(f.notes());

        // the image size: the checkpoint's, --image-size, or the data set's (image folders: the most common size)
        int channels, size;
        boolean resize;
        if (full instanceof InMemoryImageDataset mem) {
            int[] shape = mem.imageShape();
            channels = shape[0];
            size = saved != null ? saved.imageSize() : cfg.imageSize() > 0 ? cfg.imageSize() : shape[1];
            resize = size != shape[1] || shape[1] != shape[2];
        } else if (full instanceof ImageFolder f) {
            channels = f.options().channels();
            if (saved != null) size = saved.imageSize();
            else if (cfg.imageSize() > 0) size = cfg.imageSize();
            else {
                ImageFolder.Size common = f.mostCommonSize();
                size = Math.min(common.height(), common.width());
                notes.add(String.format(Locale.ROOT, "note: image size %d: %s is the most common size in %s (%d of %d images%s); "
                                + "%s--image-size sets it",
                        size, common, f.root(), f.sizes().get(common), f.size(),
                        f.sizes().size() > 1 ? ", " + f.sizes().size() + " sizes in all" : "",
                        f.sizes().size() > 1 || common.height() != common.width() ? "images are resized (shorter side) and centre-cropped; " : ""));
            }
            resize = true;
        } else {
            int[] shape = full.get(0).image().shape();
            channels = shape[0];
            size = saved != null ? saved.imageSize() : cfg.imageSize() > 0 ? cfg.imageSize() : shape[1];
            resize = true;
        }

        // Subset of the training images (seeded), then the validation split (seeded): the same on every run.
        int[] indices = identity(full.size());
        if (cfg.limitTrain() > 0 && cfg.limitTrain() < full.size()) {
            int[] perm = new SampleRng(cfg.seed() ^ 0x5EEDL).permutation(full.size());
            indices = Arrays.copyOf(perm, cfg.limitTrain());
        }
        ImageClassificationDataset valFolder = VisionDatasets.open(cfg.dataset(), Split.VAL, locator, folderOptions);
        int nVal = valFolder != null ? 0 : (int) Math.round(indices.length * cfg.valSplit());
        int[] valIdx = new int[0], trainIdx = indices;
        if (nVal > 0) {
            var parts = Datasets.randomSplit(new Subset<>(full, indices), new int[] {indices.length - nVal, nVal}, cfg.seed());
            trainIdx = compose(indices, parts.get(0).indices());
            valIdx = compose(indices, parts.get(1).indices());
        }

        float[] mean, std;
        if (saved != null) {
            mean = Arrays.copyOf(saved.mean(), Math.min(channels, saved.mean().length)); // a 3-channel model's statistics on grey images: the first
            std = Arrays.copyOf(saved.std(), Math.min(channels, saved.std().length));
        } else if (full instanceof InMemoryImageDataset mem) {
            float[][] ms = mem.channelMeanStd();
            mean = ms[0];
            std = ms[1];
        } else {
            mean = new float[channels];
            std = new float[channels];
            Arrays.fill(mean, 0.5f);
            Arrays.fill(std, 0.5f);
        }
        Transform<Image, Image> evalT = pipeline(size, resize, null, mean, std);
        Transform<Image, Image> trainT = pipeline(size, resize, cfg, mean, std);
        Dataset<LabeledImage> train = new Subset<>(full.withTransform(trainT, cfg.seed()), trainIdx);
        Dataset<LabeledImage> val = nVal > 0 ? new Subset<>(full.withTransform(evalT, 0), valIdx) : null;
        if (valFolder != null) {
            if (valFolder instanceof ImageFolder f) notes.addAll(f.notes());
            val = valFolder.size() == 0 ? null : valFolder.withTransform(evalT, 0);
            notes.add("note: validation set: " + (valFolder instanceof ImageFolder f ? f.root() : "val/") + " (" + valFolder.size()
                    + " images); --val-split is not used");
        }
        Dataset<LabeledImage> test = null;
        if (testLimit >= 0 && VisionDatasets.hasTestSplit(cfg.dataset())) {
            ImageClassificationDataset t = VisionDatasets.open(cfg.dataset(), Split.TEST, locator, folderOptions);
            if (t instanceof ImageFolder f) notes.addAll(f.notes());
            test = t.withTransform(evalT, 0);
            if (testLimit > 0 && testLimit < test.size()) {
                notes.add(String.format(Locale.ROOT, "note: the test pass uses a seeded random %d of the %d test images (--limit-test)", testLimit, test.size()));
                test = new Subset<>(test, Arrays.copyOf(new SampleRng(cfg.seed() ^ 0x7E57L).permutation(test.size()), testLimit));
            }
        }
        DataSpec spec = new DataSpec(cfg.dataset(), size, channels, full.classes(), mean, std, trainIdx.length,
                val == null ? 0 : val.size(), test == null ? 0 : test.size());
        return new Splits(train, val, test, spec, List.copyOf(notes));
    }

    /** Resize and centre-crop, the training run's augmentation ({@code train} null: none, for evaluation), normalisation. */
    @SuppressWarnings("unchecked")
    private static Transform<Image, Image> pipeline(int size, boolean resize, RunConfig train, float[] mean, float[] std) {
        List<Transform<Image, Image>> steps = new ArrayList<>();
        if (resize) {
            steps.add(Transforms.resize(size));
            steps.add(Transforms.centerCrop(size));
        }
        if (train != null && train.augment()) {
            steps.add(Transforms.randomCrop(size, train.cropPadding()));
            steps.add(Transforms.randomHorizontalFlip(0.5));
        }
        steps.add(Transforms.toTensor());
        steps.add(Transforms.normalize(mean, std));
        if (train != null && train.randomErasing() > 0) steps.add(Transforms.randomErasing(train.randomErasing()));
        return Transforms.compose(steps.toArray(Transform[]::new));
    }

    /** The evaluation transform of a run: resize and centre-crop to its size, then its normalisation. */
    public static Transform<Image, Image> evalTransform(DataSpec spec) {
        return pipeline(spec.imageSize(), true, null, spec.mean(), spec.std());
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    private static int[] compose(int[] outer, int[] inner) {
        int[] r = new int[inner.length];
        for (int i = 0; i < inner.length; i++) r[i] = outer[inner[i]];
        return r;
    }

    static DataLoader<LabeledImage, Batch> loader(Dataset<LabeledImage> ds, int batch, boolean shuffle, long seed, int workers) {
        return DataLoader.builder(ds, Batch::collate).batchSize(batch).shuffle(shuffle).seed(seed).numWorkers(workers).build();
    }

    /** Evaluation batches: larger than training ones (no activations kept for backward). */
    static int evalBatchSize(RunConfig cfg) {
        return Math.max(cfg.batchSize(), 256);
    }

    // ---------------------------------------------------------------------------------------------- training

    /**
     * Trains (or, with {@code resume}, continues) the run in {@code runDir}, then tests the best checkpoint. When
     * resuming, the run's saved config.json wins over {@code cfg}.
     */
    public static FitResult train(RunConfig cfg, Path runDir, boolean resume, Session session) {
        PrintStream out = session.out();
        Path configPath = runDir.resolve(CONFIG);
        boolean rewriteConfig = !(resume && Files.isRegularFile(configPath));
        if (!rewriteConfig) {
            // a resumed run keeps its saved configuration; a larger epoch count extends it, another data folder may be given
            RunConfig saved = readRunConfig(configPath);
            RunConfig resumed = saved.withData(saved.dataset(), cfg.dataDir() != null ? cfg.dataDir() : saved.dataDir())
                    .withEpochs(Math.max(saved.epochs(), cfg.epochs()));
            if (resumed.epochs() > saved.epochs()) {
                out.printf(Locale.ROOT, "resume: the run now trains for %d epochs (it was configured for %d); the learning-rate "
                        + "schedule is recomputed over the new length and applies from the current step on%n", resumed.epochs(), saved.epochs());
                rewriteConfig = true;
            } else if (!resumed.equals(cfg)) {
                out.println("resume: using the run's saved configuration from " + configPath);
            }
            cfg = resumed;
        }
        Device device = device(cfg.device());
        Splits data = openData(cfg, hfInput(cfg.model()), session.testLimit());
        data.notes().forEach(out::println);
        DataSpec spec = data.spec();
        Random4j rng = new Random4j(cfg.seed());
        ImageClassifier model = ModelZoo.create(cfg.model(), spec.imageSize(), spec.channels(), spec.classes().size(), rng);
        if (cfg.dropPath() > 0) {
            if (!(model instanceof VisionTransformer vt)) {
                throw new IllegalArgumentException("--drop-path: " + cfg.model() + " is not a Vision Transformer (stochastic depth drops its blocks)");
            }
            vt.dropPath(cfg.dropPath());
        }
        Module trainable = initialize(model, cfg, out);
        if (!device.equals(Device.CPU)) model.to(device);

        try (var trainLoader = loader(data.train(), cfg.batchSize(), true, cfg.seed(), cfg.workers());
             var valLoader = data.val() == null ? null : loader(data.val(), evalBatchSize(cfg), false, 0, cfg.workers());
             var testLoader = data.test() == null ? null : loader(data.test(), evalBatchSize(cfg), false, 0, cfg.workers())) {
            long steps = cfg.stepsPerEpoch(trainLoader.numBatches());
            long total = steps * cfg.epochs();
            long warmup = cfg.warmupSteps(total);
            Optimization opt = Optimizers.create(trainable, cfg.optimizer(), cfg.lr(), cfg.weightDecay(), cfg.schedule(),
                    warmup, total, cfg.clipGradNorm());
            if (cfg.ema() > 0) opt = new ModelEma(opt, model, cfg.ema()); // over the model: its names are the checkpoints'
            String configJson = configJson(cfg, spec, model.config(), model.numParameters(), steps, total, warmup, session.testLimit());
            if (rewriteConfig) writeConfig(configPath, configJson);

            out.println(ModelZoo.describe(cfg.model(), model));
            out.printf(Locale.ROOT, "data: %s, %d classes, %dx%dx%d; %,d train / %,d val / %,d test images%n", spec.name(),
                    spec.classes().size(), spec.channels(), spec.imageSize(), spec.imageSize(), spec.trainSize(), spec.valSize(), spec.testSize());
            out.printf(Locale.ROOT, "training: %d epochs x %d steps of %d, %s lr %.3g (warm-up %d steps, %s), weight decay %.3g, "
                            + "seed %d, %s, %s, %d threads%nrun folder: %s%n", cfg.epochs(), steps, cfg.batchSize(), cfg.optimizer(),
                    cfg.lr(), warmup, cfg.schedule(), cfg.weightDecay(), cfg.seed(),
                    session.describe(device),
                    cfg.precision(), Parallel.threads(),
                    runDir.toAbsolutePath().normalize());

            TrainingLoop.Config tc = cfg.loopConfig(valLoader != null, session.progress(), session.timeLimitMinutes() * 60,
                    session.cudaGraphs());
            String monitor = tc.monitor();
            ImageClassificationTask task = new ImageClassificationTask(model, configJson, cfg.labelSmoothing(),
                    Mixup.of(cfg.mixup(), cfg.cutmix()), rng);
            TrainingLoop<Batch> trainer = new TrainingLoop<>(task, opt, rng, runDir, tc, out).onDevice(device)
                    .precision(Autocast.parse(cfg.precision()));
            FitResult r = trainer.fit(trainLoader, valLoader, resume);
            boolean finishedBefore = resume && r.epochs().isEmpty() && Files.isRegularFile(runDir.resolve("test_report.txt"));
            if (!r.epochs().isEmpty()) {
                out.printf(Locale.ROOT, "training done: %d epochs in %.1f s; best %s %.4f at epoch %d%n", r.epochs().size(),
                        r.seconds(), monitor, r.bestValue(), r.bestEpoch());
            }
            if (finishedBefore) out.println("the run's test report is in " + runDir.resolve("test_report.txt"));
            else if (testLoader != null) task.test(trainer, testLoader, spec.classes());
            else if (session.testLimit() < 0) out.println("no test pass (--no-test)");
            else out.println("no test split for " + cfg.dataset() + ": skipping the test pass");
            return r;
        }
    }

    /**
     * Applies {@code --init-from} and {@code --freeze-encoder} and returns the module whose parameters the optimizer
     * updates: the whole model, or only the head of a frozen {@link MaeClassifier}.
     */
    static Module initialize(ImageClassifier model, RunConfig cfg, PrintStream out) {
        if (cfg.initFrom() != null && model instanceof HfImageClassifier hf) {
            List<String> fresh = hf.loadPretrained();
            out.println("init: weights from the Hugging Face folder " + hf.source + "; new head for the data set's classes ("
                    + String.join(", ", fresh) + ")");
        } else if (cfg.initFrom() != null) {
            Checkpoint ck = Checkpoint.load(Path.of(cfg.initFrom()));
            if (model instanceof MaeClassifier mae) {
                mae.loadEncoder(ck.model());
                out.println("init: encoder weights from " + cfg.initFrom() + " (" + ck.model().keySet().stream()
                        .filter(k -> k.startsWith("encoder.")).count() + " tensors)");
            } else {
                var fit = model.loadStateDict(ck.model(), false);
                if (!fit.ok())
                    throw new IllegalArgumentException("--init-from " + cfg.initFrom() + ": its weights do not fit " + cfg.model() + " ("
                            + fit + "); give a checkpoint of the same model and data shape");
                out.println("init: all weights from " + cfg.initFrom());
            }
        }
        if (!cfg.freezeEncoder()) return model;
        if (!(model instanceof MaeClassifier mae))
            throw new IllegalArgumentException("--freeze-encoder: model " + cfg.model() + " has no separate encoder to freeze (use mae-tiny)");
        if (cfg.initFrom() == null) out.println("warning: --freeze-encoder without --init-from probes a randomly initialised encoder");
        mae.freezeEncoder(true);
        out.printf(Locale.ROOT, "linear probe: encoder frozen, training the head only (%,d of %,d parameters)%n",
                mae.head.numParameters(), mae.numParameters());
        return mae.head;
    }

    public static Device device(String name) {
        if (name.equals("cpu")) return Device.CPU;
        int index;
        try {
            index = name.equals("cuda") ? 0 : Integer.parseInt(name.substring("cuda:".length()));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--device must be cpu, cuda or cuda:N, got '" + name + "'");
        }
        Device d = Device.cuda(index);
        try {
            io.github.transformers4j.tensor.Backends.of(d); // fails with the reason (what was searched) when CUDA cannot be used
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "; run with --device cpu to train on the CPU", e);
        }
        return d;
    }

    // -------------------------------------------------------------------------------------------- evaluation

    /**
     * Evaluates a checkpoint on a split ({@code test}, {@code val} or {@code train}) of its own data set (or of
     * {@code dataset} when given, which must have the same classes), with the run's normalisation, and prints the
     * same report as the training's test pass.
     */
    public static Evaluation evaluate(Path checkpoint, String dataset, String split, String dataDir, Session session) {
        return evaluate(checkpoint, dataset, split, dataDir, "cpu", 0, session);
    }

    /** As above, on {@code device} ("cpu" or "cuda[:N]"), in batches of {@code batchSize} (0: the run's evaluation batch). */
    public static Evaluation evaluate(Path checkpoint, String dataset, String split, String dataDir, String device, int batchSize,
            Session session) {
        if (!List.of("test", "val", "train").contains(split))
            throw new IllegalArgumentException("--split must be test, val or train, got '" + split + "'");
        if (batchSize < 0) throw new IllegalArgumentException("--batch-size must be positive, got " + batchSize);
        Device dev = device(device);
        Loaded run = load(checkpoint, dev);
        RunConfig cfg = run.config();
        if (dataset != null && !dataset.equals(cfg.dataset()) || dataDir != null)
            cfg = cfg.withData(dataset != null ? dataset : cfg.dataset(), dataDir != null ? dataDir : cfg.dataDir());
        DataSpec spec = run.spec();
        Splits data = openData(cfg, spec, split.equals("test") ? 0 : -1);
        data.notes().forEach(session.out()::println);
        if (!data.spec().classes().equals(spec.classes()) && data.spec().classes().size() != spec.classes().size())
            throw new IllegalArgumentException("eval: " + cfg.dataset() + " has " + data.spec().classes().size()
                    + " classes but the model was trained on " + spec.classes().size());
        Dataset<LabeledImage> ds = switch (split) {
            case "test" -> data.test();
            case "val" -> data.val();
            default -> data.train();
        };
        if (ds == null) throw new IllegalArgumentException("eval: " + cfg.dataset() + " has no " + split + " split");
        Evaluation e;
        try (var loader = loader(ds, batchSize > 0 ? batchSize : evalBatchSize(cfg), false, 0, cfg.workers())) {
            e = ImageClassificationTask.evaluate(run.model(), loader, spec.classes().size(), 0, dev, session.progress() ? split : null);
        }
        session.out().println(ImageClassificationTask.testReport(e, spec.classes(), checkpoint + " (epoch " + run.epoch() + "), "
                + split + " split of " + cfg.dataset(), split));
        return e;
    }

    /** A trained image classifier with the run it came from. */
    public record Loaded(ImageClassifier model, RunConfig config, DataSpec spec, int epoch) {}

    /** Rebuilds the model of an image-classification checkpoint on {@code dev}, with its run configuration and data description. */
    public static Loaded load(Path checkpoint, Device dev) {
        Checkpoint ck = Checkpoint.load(checkpoint);
        JsonNode root;
        try {
            root = parse(ck.config());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(checkpoint + " is not an image-classifier checkpoint of t4j train (" + e.getMessage() + ")", e);
        }
        RunConfig cfg = runConfig(root);
        if (root.get("data") == null)
            throw new IllegalArgumentException(checkpoint + " is a checkpoint of " + cfg.model() + " without a data description; "
                    + "not an image classifier from t4j train");
        DataSpec spec;
        try {
            spec = JSON.treeToValue(root.get("data"), DataSpec.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(checkpoint + ": bad data description in its config: " + e.getMessage(), e);
        }
        // the preset's name and the data's shape define the model
        ImageClassifier model = ModelZoo.create(cfg.model(), spec.imageSize(), spec.channels(), spec.classes().size(), new Random4j(cfg.seed()));
        model.loadStateDict(ck.weights(), true);
        if (!dev.equals(Device.CPU)) model.to(dev);
        return new Loaded(model, cfg, spec, ck.epoch());
    }

    // -------------------------------------------------------------------------------------------- config.json

    /** config.json; {@code testLimit}: the test pass asked for (-1 none, 0 all, N a seeded subset), which a resume keeps. */
    static String configJson(RunConfig cfg, DataSpec spec, Record modelConfig, long params, long stepsPerEpoch, long total, long warmup,
                             int testLimit) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.set("run", JSON.valueToTree(cfg));
        root.put("test_limit", testLimit);
        root.set("data", JSON.valueToTree(spec));
        root.set("model", JSON.valueToTree(modelConfig));
        root.put("parameters", params);
        root.put("steps_per_epoch", stepsPerEpoch);
        root.put("total_steps", total);
        root.put("warmup_steps", warmup);
        putEnvironment(root);
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where and when a run was made (config.json's "environment": not part of what defines the run). */
    static void putEnvironment(ObjectNode root) {
        ObjectNode env = root.putObject("environment");
        env.put("created", LocalDateTime.now().withNano(0).toString());
        env.put("java", Runtime.version().toString());
        env.put("threads", Parallel.threads());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }

    static void writeConfig(Path path, String json) {
        try {
            AtomicFiles.writeString(path, json + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    static JsonNode parse(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || !FORMAT.equals(n.path("format").asText()))
                throw new IllegalArgumentException("not a transformers4j run configuration (format " + n.path("format") + ")");
            return n;
        } catch (IOException e) {
            throw new IllegalArgumentException("bad run configuration JSON: " + e.getMessage(), e);
        }
    }

    static RunConfig runConfig(JsonNode root) {
        try {
            return JSON.treeToValue(root.get("run"), RunConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("bad run configuration: " + e.getMessage(), e);
        }
    }

    /** The test pass a run was started with (config.json's test_limit: -1 none, 0 all, N a subset); 0 for older runs. */
    public static int savedTestLimit(Path configJson) {
        try {
            return parse(Files.readString(configJson)).path("test_limit").asInt(0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
    }

    public static RunConfig readRunConfig(Path configJson) {
        try {
            return runConfig(parse(Files.readString(configJson)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
    }
}
