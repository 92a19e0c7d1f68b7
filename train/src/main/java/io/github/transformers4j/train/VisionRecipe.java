package io.github.transformers4j.train;

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
import io.github.transformers4j.data.vision.InMemoryImageDataset;
import io.github.transformers4j.data.vision.LabeledImage;
import io.github.transformers4j.data.vision.VisionDatasets;
import io.github.transformers4j.data.vision.transforms.Transforms;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.cpu.Parallel;
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
 * the schedule, train with a {@link Trainer}, and test the best checkpoint. Everything that defines the run goes to
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
    public record Splits(Dataset<LabeledImage> train, Dataset<LabeledImage> val, Dataset<LabeledImage> test, DataSpec spec) {}

    /** Options of one call that are not part of the run's definition. */
    /** @param timeLimitMinutes stop training before an epoch that would end past this wall-clock budget (0 = none) */
    public record Session(PrintStream out, boolean progress, double timeLimitMinutes, boolean cudaGraphs) {
        public Session(PrintStream out, boolean progress) {
            this(out, progress, 0, true);
        }

        public Session(PrintStream out, boolean progress, double timeLimitMinutes) {
            this(out, progress, timeLimitMinutes, true);
        }
    }

    // --------------------------------------------------------------------------------------------------- data

    /** Opens and splits the data set of {@code cfg}; with {@code saved} (from a checkpoint) its normalisation is reused. */
    public static Splits openData(RunConfig cfg, DataSpec saved, boolean withTest) {
        DataLocator locator = DataLocator.standard(cfg.dataDir() == null ? null : Path.of(cfg.dataDir()));
        ImageClassificationDataset full = VisionDatasets.open(cfg.dataset(), true, locator);
        int[] shape = full.get(0).image().shape();
        int size = shape[1];
        if (full.size() == 0) throw new IllegalArgumentException(cfg.dataset() + ": the training split is empty");

        // Subset of the training images (seeded), then the validation split (seeded): the same on every run.
        int[] indices = identity(full.size());
        if (cfg.limitTrain() > 0 && cfg.limitTrain() < full.size()) {
            int[] perm = new SampleRng(cfg.seed() ^ 0x5EEDL).permutation(full.size());
            indices = Arrays.copyOf(perm, cfg.limitTrain());
        }
        int nVal = (int) Math.round(indices.length * cfg.valSplit());
        int[] valIdx = new int[0], trainIdx = indices;
        if (nVal > 0) {
            var parts = Datasets.randomSplit(new Subset<>(full, indices), new int[] {indices.length - nVal, nVal}, cfg.seed());
            trainIdx = compose(indices, parts.get(0).indices());
            valIdx = compose(indices, parts.get(1).indices());
        }

        float[] mean, std;
        if (saved != null) {
            mean = saved.mean();
            std = saved.std();
        } else if (full instanceof InMemoryImageDataset mem) {
            float[][] ms = mem.channelMeanStd();
            mean = ms[0];
            std = ms[1];
        } else {
            mean = new float[shape[0]];
            std = new float[shape[0]];
            Arrays.fill(mean, 0.5f);
            Arrays.fill(std, 0.5f);
        }
        boolean resize = !(full instanceof InMemoryImageDataset);
        Transform<Image, Image> evalT = pipeline(size, resize, false, mean, std);
        Transform<Image, Image> trainT = pipeline(size, resize, cfg.augment(), mean, std);
        Dataset<LabeledImage> train = new Subset<>(full.withTransform(trainT, cfg.seed()), trainIdx);
        Dataset<LabeledImage> val = nVal > 0 ? new Subset<>(full.withTransform(evalT, 0), valIdx) : null;
        Dataset<LabeledImage> test = null;
        if (withTest && VisionDatasets.hasTestSplit(cfg.dataset())) {
            test = VisionDatasets.open(cfg.dataset(), false, locator).withTransform(evalT, 0);
        }
        DataSpec spec = new DataSpec(cfg.dataset(), size, shape[0], full.classes(), mean, std, trainIdx.length, valIdx.length,
                test == null ? 0 : test.size());
        return new Splits(train, val, test, spec);
    }

    @SuppressWarnings("unchecked")
    private static Transform<Image, Image> pipeline(int size, boolean resize, boolean augment, float[] mean, float[] std) {
        List<Transform<Image, Image>> steps = new ArrayList<>();
        if (resize) steps.add(Transforms.resize(size, size));
        if (augment) {
            steps.add(Transforms.randomCrop(size, 4));
            steps.add(Transforms.randomHorizontalFlip(0.5));
        }
        steps.add(Transforms.toTensor());
        steps.add(Transforms.normalize(mean, std));
        return Transforms.compose(steps.toArray(Transform[]::new));
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
        if (resume && Files.isRegularFile(configPath)) {
            RunConfig saved = readRunConfig(configPath);
            if (!saved.equals(cfg)) out.println("resume: using the run's saved configuration from " + configPath);
            cfg = saved;
        }
        Device device = device(cfg.device());
        Splits data = openData(cfg, null, true);
        DataSpec spec = data.spec();
        Random4j rng = new Random4j(cfg.seed());
        ImageClassifier model = ModelZoo.create(cfg.model(), spec.imageSize(), spec.channels(), spec.classes().size(), rng);
        Module trainable = initialize(model, cfg, out);
        if (!device.equals(Device.CPU)) model.to(device);

        try (var trainLoader = loader(data.train(), cfg.batchSize(), true, cfg.seed(), cfg.workers());
             var valLoader = data.val() == null ? null : loader(data.val(), evalBatchSize(cfg), false, 0, cfg.workers());
             var testLoader = data.test() == null ? null : loader(data.test(), evalBatchSize(cfg), false, 0, cfg.workers())) {
            long steps = trainLoader.numBatches();
            long total = steps * cfg.epochs();
            long warmup = cfg.warmupSteps(total);
            Optimization opt = Optimizers.create(trainable, cfg.optimizer(), cfg.lr(), cfg.weightDecay(), cfg.schedule(),
                    warmup, total, cfg.clipGradNorm());
            String configJson = configJson(cfg, spec, model.config(), model.numParameters(), steps, total, warmup);
            if (!(resume && Files.isRegularFile(configPath))) writeConfig(configPath, configJson);

            out.println(ModelZoo.describe(cfg.model(), model));
            out.printf(Locale.ROOT, "data: %s, %d classes, %dx%dx%d; %,d train / %,d val / %,d test images%n", spec.name(),
                    spec.classes().size(), spec.channels(), spec.imageSize(), spec.imageSize(), spec.trainSize(), spec.valSize(), spec.testSize());
            out.printf(Locale.ROOT, "training: %d epochs x %d steps of %d, %s lr %.3g (warm-up %d steps, %s), weight decay %.3g, "
                            + "seed %d, %s, %s, %d threads%nrun folder: %s%n", cfg.epochs(), steps, cfg.batchSize(), cfg.optimizer(),
                    cfg.lr(), warmup, cfg.schedule(), cfg.weightDecay(), cfg.seed(),
                    device + (device.type() == Device.Type.CUDA ? session.cudaGraphs() ? " (steps captured as CUDA graphs)" : " (eager steps)" : ""),
                    cfg.precision(), Parallel.threads(),
                    runDir.toAbsolutePath().normalize());

            String monitor = valLoader == null ? cfg.monitor().replace("val_", "train_") : cfg.monitor();
            Trainer.Config tc = new Trainer.Config(cfg.epochs(), cfg.logEvery(), session.progress(), monitor,
                    EarlyStopping.defaultMode(monitor), cfg.patience());
            Trainer trainer = new Trainer(model, opt, rng, runDir, tc, configJson, out).onDevice(device)
                    .precision(Autocast.parse(cfg.precision())).timeLimit(session.timeLimitMinutes() * 60)
                    .cudaGraphs(session.cudaGraphs());
            FitResult r = trainer.fit(trainLoader, valLoader, resume);
            out.printf(Locale.ROOT, "training done: %d epochs in %.1f s; best %s %.4f at epoch %d%n", r.epochs().size(),
                    r.seconds(), monitor, r.bestValue(), r.bestEpoch());
            if (testLoader != null) trainer.test(testLoader, spec.classes());
            else out.println("no test split for " + cfg.dataset() + ": skipping the test pass");
            return r;
        }
    }

    /**
     * Applies {@code --init-from} and {@code --freeze-encoder} and returns the module whose parameters the optimizer
     * updates: the whole model, or only the head of a frozen {@link MaeClassifier}.
     */
    static Module initialize(ImageClassifier model, RunConfig cfg, PrintStream out) {
        if (cfg.initFrom() != null) {
            Checkpoint ck = Checkpoint.load(Path.of(cfg.initFrom()));
            if (model instanceof MaeClassifier mae) {
                mae.loadEncoder(ck.model());
                out.println("init: encoder weights from " + cfg.initFrom() + " (" + ck.model().keySet().stream()
                        .filter(k -> k.startsWith("encoder.")).count() + " tensors)");
            } else {
                model.loadStateDict(ck.model(), true);
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

    static Device device(String name) {
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
        return evaluate(checkpoint, dataset, split, dataDir, "cpu", session);
    }

    /** As above, on {@code device} ("cpu" or "cuda[:N]"). */
    public static Evaluation evaluate(Path checkpoint, String dataset, String split, String dataDir, String device, Session session) {
        Device dev = device(device);
        Checkpoint ck = Checkpoint.load(checkpoint);
        JsonNode root = parse(ck.config());
        RunConfig cfg = runConfig(root);
        if (dataset != null && !dataset.equals(cfg.dataset()) || dataDir != null) {
            cfg = new RunConfig(cfg.model(), dataset != null ? dataset : cfg.dataset(), dataDir != null ? dataDir : cfg.dataDir(),
                    cfg.epochs(), cfg.batchSize(), cfg.lr(), cfg.optimizer(), cfg.weightDecay(), cfg.warmup(), cfg.schedule(),
                    cfg.seed(), cfg.valSplit(), cfg.limitTrain(), cfg.device(), cfg.logEvery(), cfg.monitor(), cfg.patience(),
                    cfg.clipGradNorm(), cfg.workers(), cfg.augment(), cfg.initFrom(), cfg.freezeEncoder(), cfg.precision());
        }
        DataSpec spec;
        try {
            spec = JSON.treeToValue(root.get("data"), DataSpec.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + ": bad config: " + e.getMessage(), e);
        }
        // the preset's name and the data's shape define the model
        ImageClassifier model = ModelZoo.create(cfg.model(), spec.imageSize(), spec.channels(), spec.classes().size(), new Random4j(cfg.seed()));
        model.loadStateDict(ck.model(), true);
        if (!dev.equals(Device.CPU)) model.to(dev);
        Splits data = openData(cfg, spec, split.equals("test"));
        if (!data.spec().classes().equals(spec.classes()) && data.spec().classes().size() != spec.classes().size())
            throw new IllegalArgumentException("eval: " + cfg.dataset() + " has " + data.spec().classes().size()
                    + " classes but the model was trained on " + spec.classes().size());
        Dataset<LabeledImage> ds = switch (split) {
            case "test" -> data.test();
            case "val" -> data.val();
            case "train" -> data.train();
            default -> throw new IllegalArgumentException("--split must be test, val or train, got '" + split + "'");
        };
        if (ds == null) throw new IllegalArgumentException("eval: " + cfg.dataset() + " has no " + split + " split");
        Evaluation e;
        try (var loader = loader(ds, evalBatchSize(cfg), false, 0, cfg.workers())) {
            e = Trainer.evaluate(model, loader, spec.classes().size(), 0, dev);
        }
        session.out().println(Trainer.testReport(e, spec.classes(), checkpoint + " (epoch " + ck.epoch() + "), "
                + split + " split of " + cfg.dataset()));
        return e;
    }

    // -------------------------------------------------------------------------------------------- config.json

    static String configJson(RunConfig cfg, DataSpec spec, Record modelConfig, long params, long stepsPerEpoch, long total, long warmup) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.set("run", JSON.valueToTree(cfg));
        root.set("data", JSON.valueToTree(spec));
        root.set("model", JSON.valueToTree(modelConfig));
        root.put("parameters", params);
        root.put("steps_per_epoch", stepsPerEpoch);
        root.put("total_steps", total);
        root.put("warmup_steps", warmup);
        ObjectNode env = root.putObject("environment");
        env.put("created", LocalDateTime.now().withNano(0).toString());
        env.put("java", Runtime.version().toString());
        env.put("threads", Parallel.threads());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeConfig(Path path, String json) {
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

    public static RunConfig readRunConfig(Path configJson) {
        try {
            return runConfig(parse(Files.readString(configJson)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
    }
}
