package io.github.transformers4j.cli;

import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.recipes.PretrainRecipe;
import io.github.transformers4j.recipes.RunConfig;
import io.github.transformers4j.recipes.VisionRecipe;
import io.github.transformers4j.train.RunFolder;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Self-supervised pre-training of a masked autoencoder on a data set's images (labels unused), through the "
                + "same training loop as t4j train. Writes config.json, metrics.csv, metrics.jsonl, tensorboard/, "
                + "checkpoints/last.safetensors and reconstruction.png (original / masked / reconstruction rows).",
                "Then: t4j train --model mae-tiny --init-from RUN/checkpoints/last.safetensors [--freeze-encoder]"})
final class PretrainCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "pre-training preset: mae-tiny (default: ${DEFAULT-VALUE})")
    String model = "mae-tiny";

    @Option(names = "--epochs", description = "epochs (default: ${DEFAULT-VALUE})")
    int epochs = 10;

    @Option(names = "--batch-size", description = "batch size (default: ${DEFAULT-VALUE})")
    int batchSize = 128;

    @Option(names = "--lr", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr = 1.5e-3;

    @Option(names = "--weight-decay", description = "AdamW weight decay on weight matrices (default: ${DEFAULT-VALUE})")
    double weightDecay = 0.05;

    @Option(names = "--warmup", description = "linear warm-up: fraction of all steps if < 1, else steps (default: ${DEFAULT-VALUE})")
    double warmup = 0.05;

    @Option(names = "--mask-ratio", description = "fraction of patches hidden from the encoder (default: ${DEFAULT-VALUE})")
    double maskRatio = 0.75;

    @Option(names = "--norm-pix-loss", description = "reconstruct per-patch normalised pixels (MAE's norm_pix_loss)")
    boolean normPixLoss;

    @Option(names = "--samples", paramLabel = "N", description = "images in reconstruction.png (default: ${DEFAULT-VALUE})")
    int samples = 8;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Option(names = "--patience", paramLabel = "N", description = "stop after N evaluations without a lower validation loss (0 = never)")
    int patience;

    @CommandLine.Mixin
    DataOptions data;

    @CommandLine.Mixin
    RunOptions runOptions;

    @CommandLine.Mixin
    StepOptions steps;

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() {
        threads.apply();
        if (!ModelZoo.has(model, ModelZoo.Task.PRETRAINING))
            throw new IllegalArgumentException("unknown pre-training model '" + model + "'; known: "
                    + String.join(", ", ModelZoo.names(ModelZoo.Task.PRETRAINING)));
        runOptions.checkPrecision();
        RunFolder.Mode mode = runOptions.folderMode(); // before anything is written
        RunConfig cfg = steps.applyTo(RunConfig.builder().model(model).dataset(data.dataset)
                .dataDir(data.dataDir == null ? null : data.dataDir.toString()).epochs(epochs).batchSize(batchSize).lr(lr)
                .optimizer("adamw").weightDecay(weightDecay).warmup(warmup).schedule("cosine").seed(runOptions.seed)
                .valSplit(data.valSplit).limitTrain(data.limitTrain).device(runOptions.device).precision(runOptions.precision).monitor("val_loss").patience(patience)
                .clipGradNorm(0).workers(runOptions.workers).build());
        Path run = runOptions.out != null ? runOptions.out : Path.of("runs", model + "-pretrain_" + data.dataset.replaceAll("[^A-Za-z0-9.-]+", "-") + "_"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path savedConfig = run.resolve(VisionRecipe.CONFIG);
        if (runOptions.resume && Files.isRegularFile(savedConfig)) { // the run goes on as it was configured
            cfg = TrainCommand.continued(PretrainRecipe.readRunConfig(savedConfig), cfg, run, this::given, this::usage);
            MaeConfig saved = PretrainRecipe.readMaeConfig(savedConfig);
            Map<String, Function<MaeConfig, Object>> fixed = new LinkedHashMap<>();
            fixed.put("--mask-ratio", MaeConfig::maskRatio);
            fixed.put("--norm-pix-loss", MaeConfig::normPixLoss);
            TrainCommand.refuseChanged(TrainCommand.changed(fixed, saved, saved.withMaskRatio(maskRatio).withNormPixLoss(normPixLoss),
                    this::given), run, this::usage);
            maskRatio = saved.maskRatio();
            normPixLoss = saved.normPixLoss();
        }
        try (RunFolder folder = RunFolder.claim(run, mode)) {
            folder.notes().forEach(System.out::println);
            PretrainRecipe.pretrain(cfg, new PretrainRecipe.MaeOptions(maskRatio, normPixLoss, samples), run,
                    new VisionRecipe.Session(new PrintStream(System.out, true), !runOptions.noProgress, runOptions.timeLimitMinutes,
                            !runOptions.noCudaGraphs),
                    runOptions.resume);
        }
        return 0;
    }
}
