package io.github.transformers4j.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.Dataset;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.data.vision.LabeledImage;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.models.mae.Masking;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.AtomicFiles;
import io.github.transformers4j.train.Callback;
import io.github.transformers4j.train.EpochResult;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.MetricsLogger;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.ReconstructionGrid;
import io.github.transformers4j.train.Task;
import io.github.transformers4j.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Self-supervised pre-training of a masked autoencoder ({@code t4j pretrain --model mae-tiny}) on the images of a data
 * set (labels unused), and the reconstruction picture. The run folder gets:
 * <pre>
 * RUN/config.json                        format transformers4j-pretrain-1: run options, data, MAE configuration
 * RUN/metrics.csv, metrics.jsonl, tensorboard/   the training loop's rows (the accuracy columns stay empty)
 * RUN/checkpoints/last.safetensors       after every epoch: model.encoder.*, model.decoder.*, optimizer state (and best.safetensors)
 * RUN/reconstruction.png                 original / masked / reconstruction / reconstruction + visible, validation images
 * </pre>
 * It runs through {@link TrainingLoop} as any other task ({@link MaeTask}), so {@code --resume}, {@code --time-limit},
 * early stopping and the TensorBoard files work as for {@code t4j train}; the reconstruction picture of every epoch
 * also goes to TensorBoard's Images tab.
 * The encoder then starts a classifier: {@code t4j train --model mae-tiny --init-from RUN/checkpoints/last.safetensors}
 * (fine-tuning) or with {@code --freeze-encoder} as well (linear probe). The validation loss uses a fixed mask
 * per image (drawn from a generator seeded with 0 at every evaluation), so it is comparable across epochs.
 */
public final class PretrainRecipe {
    public static final String FORMAT = "transformers4j-pretrain-1", PNG = "reconstruction.png";

    private PretrainRecipe() {}

    /** Options of the MAE beyond the run's: its mask ratio, the normalised-pixel loss, and the images in the PNG. */
    public record MaeOptions(double maskRatio, boolean normPixLoss, int samples) {
        public MaeOptions {
            if (!(maskRatio > 0 && maskRatio < 1)) throw new IllegalArgumentException("--mask-ratio must be in (0, 1), got " + maskRatio);
            if (samples < 1) throw new IllegalArgumentException("--samples must be >= 1, got " + samples);
        }
    }

    /**
     * The masked autoencoder as a {@link Task}: its masked-patch loss. Each batch's masks are drawn on the host from the
     * run's generator (checkpointed with the run) and handed to the step as index tensors, so a GPU step can be captured.
     */
    public record MaeTask(MaskedAutoencoder mae, Random4j rng, String configJson) implements Task<Batch> {
        @Override
        public MaskedAutoencoder module() { return mae; }

        /** The images, then the batch's ids_shuffle, ids_restore and mask ({@link Masking}). */
        @Override
        public Tensor[] inputs(Batch b) {
            MaeConfig c = mae.config;
            Masking m = Masking.random(rng, b.size(), c.numPatches(), c.numVisible(), Device.CPU);
            return new Tensor[] {b.images(), m.idsShuffle(), m.idsRestore(), m.mask()};
        }

        @Override
        public long[] counts(Batch b) {
            return new long[] {b.size(), b.size()};
        }

        @Override
        public Output forward(Tensor[] in) {
            return new Output(mae.forward(in[0], new Masking(in[1], in[2], in[3], mae.config.numVisible())).loss(), null, null);
        }

        @Override
        public Names names() {
            return Names.IMAGES_NO_ACCURACY;
        }

        @Override
        public Validation validate(DataLoader<?, Batch> loader, Device device, boolean progress) {
            return new Validation(PretrainRecipe.validate(mae, loader, device), Double.NaN, Map.of());
        }

        @Override
        public Map<String, String> checkpointMeta() {
            return Map.of("config", configJson, "kind", "pretrain");
        }
    }

    /** Pre-trains for cfg.epochs() (resuming the run folder's last checkpoint when asked) and returns what the loop did. */
    public static FitResult pretrain(RunConfig cfg, MaeOptions mo, Path runDir, VisionRecipe.Session session, boolean resume) {
        PrintStream out = session.out();
        Device device = VisionRecipe.device(cfg.device());
        VisionRecipe.Splits data = VisionRecipe.openData(cfg, null, false);
        VisionRecipe.DataSpec spec = data.spec();
        Random4j rng = new Random4j(cfg.seed());
        MaskedAutoencoder base = ModelZoo.createPretrainer(cfg.model(), spec.imageSize(), spec.channels(), rng);
        MaeConfig mc = base.config.withMaskRatio(mo.maskRatio()).withNormPixLoss(mo.normPixLoss()).withData(spec.imageSize(),
                spec.channels(), spec.classes().size());
        MaskedAutoencoder mae = mc.equals(base.config) ? base : new MaskedAutoencoder(mc, new Random4j(cfg.seed()));
        if (!device.equals(Device.CPU)) mae.to(device);

        try (var trainLoader = VisionRecipe.loader(data.train(), cfg.batchSize(), true, cfg.seed(), cfg.workers());
             var valLoader = data.val() == null ? null : VisionRecipe.loader(data.val(), VisionRecipe.evalBatchSize(cfg), false, 0, cfg.workers())) {
            long steps = cfg.stepsPerEpoch(trainLoader.numBatches()), total = steps * cfg.epochs(), warmup = cfg.warmupSteps(total);
            Optimization opt = Optimizers.create(mae, cfg.optimizer(), cfg.lr(), cfg.weightDecay(), cfg.schedule(), warmup, total,
                    cfg.clipGradNorm());
            Path configPath = runDir.resolve(VisionRecipe.CONFIG);
            String configJson = resume && Files.isRegularFile(configPath) ? readConfig(runDir)
                    : writeConfig(runDir, cfg, spec, mc, mae.numParameters(), steps, total, warmup);
            out.printf(Locale.ROOT, "%s: masked autoencoder, encoder %d-d x %d, decoder %d-d x %d, patch %d, mask ratio %.2f%s; "
                            + "%,d parameters (encoder %,d)%n", cfg.model(), mc.encoderDim(), mc.encoderDepth(), mc.decoderDim(),
                    mc.decoderDepth(), mc.patchSize(), mc.maskRatio(), mc.normPixLoss() ? ", normalised-pixel loss" : "",
                    mae.numParameters(), mae.encoder.numParameters());
            out.printf(Locale.ROOT, "data: %s %dx%dx%d, %,d train / %,d val images; %d patches, %d visible%n", spec.name(),
                    spec.channels(), spec.imageSize(), spec.imageSize(), spec.trainSize(), spec.valSize(), mc.numPatches(), mc.numVisible());
            out.printf(Locale.ROOT, "pre-training: %d epochs x %d steps of %d, %s lr %.3g (warm-up %d, %s), weight decay %.3g, seed %d, %s, %s%n"
                            + "run folder: %s%n", cfg.epochs(), steps, cfg.batchSize(), cfg.optimizer(), cfg.lr(), warmup, cfg.schedule(),
                    cfg.weightDecay(), cfg.seed(), session.describe(device), cfg.precision(), runDir.toAbsolutePath().normalize());

            TrainingLoop.Config tc = cfg.loopConfig(valLoader != null, session.progress(), session.timeLimitMinutes() * 60,
                    session.cudaGraphs());
            var pics = data.val() != null ? data.val() : data.train();
            TrainingLoop<Batch> loop = new TrainingLoop<>(new MaeTask(mae, rng, configJson), opt, rng, runDir, tc, out)
                    .onDevice(device).addCallback(new Callback() { // the reconstruction picture of every epoch, also in TensorBoard
                        private boolean warned;

                        @Override
                        public void onEpochEnd(TrainingLoop<?> l, EpochResult r) {
                            try { // a picture that cannot be drawn or written must not end the run
                                if (!writeReconstruction(mae, pics, mo.samples(), spec, device, runDir.resolve(PNG)) && !warned) {
                                    warned = true;
                                    l.say("note: " + PNG + " has no row labels (no fonts on this machine); rows: original, masked, "
                                            + "reconstruction, reconstruction + visible");
                                }
                            } catch (RuntimeException e) {
                                l.say("warning: " + PNG + " not written: " + e.getMessage());
                                return;
                            }
                            l.callbacks().stream().filter(c -> c instanceof MetricsLogger).map(c -> ((MetricsLogger) c).log())
                                    .forEach(log -> log.image("pretrain/reconstruction", l.globalStep(), runDir.resolve(PNG)));
                        }
                    }).precision(Autocast.parse(cfg.precision()));
            FitResult r = loop.fit(trainLoader, valLoader, resume);
            out.println("reconstructions: " + runDir.resolve(PNG));
            out.println("next: t4j train --model " + cfg.model() + " --init-from " + runDir.resolve(TrainingLoop.LAST) + " [--freeze-encoder]");
            return r;
        }
    }

    /** Mean masked-patch loss over a loader with masks from a generator seeded 0 (the same masks every epoch). */
    static double validate(MaskedAutoencoder mae, DataLoader<?, Batch> loader, Device device) {
        boolean was = mae.isTraining();
        mae.eval();
        Random4j maskRng = new Random4j(0);
        double sum = 0;
        long n = 0;
        try (var g = Grad.disabled()) {
            for (Batch batch : loader.epoch(0)) {
                try (var scope = Memory.scope(); batch) {
                    sum += mae.forward(batch.images().to(device), maskRng).loss().item() * batch.size();
                    n += batch.size();
                }
            }
        } finally {
            mae.train(was);
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /**
     * Rows: the images, the visible patches (hidden ones grey), the reconstruction, and the reconstruction with the
     * visible patches pasted back; pixels un-normalised with the data set's mean and std.
     *
     * @return whether the rows carry their labels (false on a machine without fonts)
     */
    public static boolean writeReconstruction(MaskedAutoencoder mae, Dataset<LabeledImage> ds,
                                           int samples, VisionRecipe.DataSpec spec, Device device, Path png) {
        int n = Math.min(samples, ds.size());
        List<LabeledImage> items = new ArrayList<>();
        for (int i = 0; i < n; i++) items.add(ds.get(i));
        boolean was = mae.isTraining();
        mae.eval();
        try (var g = Grad.disabled(); var scope = Memory.scope(); Batch batch = Batch.collate(items)) {
            Tensor x = batch.images().to(device);
            MaskedAutoencoder.Output o = mae.forward(x, new Random4j(1));
            Tensor recon = mae.reconstruct(o.pred(), x);
            MaeConfig c = mae.config;
            Tensor visible = o.masking().mask().neg().add(1).unsqueeze(-1);     // (B, N, 1): 1 = visible
            Tensor patches = VisionTransformer.patchify(x, c.patchSize());
            Tensor grey = Tensor.full(0, patches.dtype(), patches.device(), 1, 1, 1); // the mean pixel after normalisation
            Tensor masked = VisionTransformer.unpatchify(patches.mul(visible).add(grey.mul(visible.neg().add(1))), c.patchSize(), c.channels(), c.imageSize());
            Tensor pasted = VisionTransformer.unpatchify(patches.mul(visible).add(VisionTransformer.patchify(recon, c.patchSize())
                    .mul(visible.neg().add(1))), c.patchSize(), c.channels(), c.imageSize());
            return ReconstructionGrid.write(png, List.of(unnormalize(x, spec), unnormalize(masked, spec), unnormalize(recon, spec),
                    unnormalize(pasted, spec)), List.of("original", "masked 75%".replace("75", String.valueOf(Math.round(100 * c.maskRatio()))),
                    "reconstruction", "recon + visible"), 4);
        } finally {
            mae.train(was);
        }
    }

    public static Tensor unnormalize(Tensor x, VisionRecipe.DataSpec spec) {
        int c = spec.channels();
        Tensor mean = Tensor.of(spec.mean(), 1, c, 1, 1).to(x.device()), std = Tensor.of(spec.std(), 1, c, 1, 1).to(x.device());
        return x.mul(std).add(mean).to(Device.CPU);
    }

    /** Writes config.json and returns its text (what checkpoints carry). */
    private static String writeConfig(Path runDir, RunConfig cfg, VisionRecipe.DataSpec spec, MaeConfig mc, long params, long steps,
                                    long total, long warmup) {
        ObjectNode root = VisionRecipe.JSON.createObjectNode();
        root.put("format", FORMAT);
        root.set("run", VisionRecipe.JSON.valueToTree(cfg));
        root.set("data", VisionRecipe.JSON.valueToTree(spec));
        root.set("model", VisionRecipe.JSON.valueToTree(mc));
        root.put("parameters", params);
        root.put("steps_per_epoch", steps);
        root.put("total_steps", total);
        root.put("warmup_steps", warmup);
        try {
            Files.createDirectories(runDir);
            String json = VisionRecipe.JSON.writeValueAsString(root) + "\n";
            AtomicFiles.writeString(runDir.resolve(VisionRecipe.CONFIG), json);
            return json;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the run's config in " + runDir + ": " + e.getMessage(), e);
        }
    }

    /** The run options of a pre-training run's config.json (format {@value #FORMAT}). */
    /** The masked autoencoder's configuration of a pre-training run's config.json (its mask ratio and loss, for --resume). */
    public static MaeConfig readMaeConfig(Path configJson) {
        try {
            JsonNode model = VisionRecipe.JSON.readTree(Files.readString(configJson)).path("model");
            if (model.isMissingNode()) throw new IllegalArgumentException(configJson + ": no \"model\" section (not a pre-training run's config.json)");
            return VisionRecipe.JSON.treeToValue(model, MaeConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
    }

    public static RunConfig readRunConfig(Path configJson) {
        try {
            JsonNode root = VisionRecipe.JSON.readTree(Files.readString(configJson));
            if (root == null || !FORMAT.equals(root.path("format").asText()))
                throw new IllegalArgumentException(configJson + ": not a pre-training run configuration (format "
                        + (root == null ? "none" : root.path("format")) + ", expected " + FORMAT + ")");
            return VisionRecipe.runConfig(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
    }

    private static String readConfig(Path runDir) {
        try {
            return Files.readString(runDir.resolve(VisionRecipe.CONFIG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
