package io.github.transformers4j.cli;

import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.recipes.PretrainRecipe;
import io.github.transformers4j.train.RunFolder;
import io.github.transformers4j.recipes.RunConfig;
import io.github.transformers4j.recipes.VisionRecipe;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
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

    @Option(names = "--dataset", description = "fashion-mnist, mnist, cifar10, cifar100 or imagefolder:PATH (default: ${DEFAULT-VALUE})")
    String dataset = "fashion-mnist";

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder holding the data set")
    Path dataDir;

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

    @Option(names = "--seed", description = "seed of initialisation, shuffling, splits and masks (default: ${DEFAULT-VALUE})")
    long seed = 42;

    @Option(names = "--val-split", description = "fraction held out for the validation loss (default: ${DEFAULT-VALUE})")
    double valSplit = 0.1;

    @Option(names = "--limit-train", paramLabel = "N", description = "use a seeded random subset of N images (0 = all)")
    int limitTrain;

    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: runs/MODEL-pretrain_DATASET_TIME)")
    Path out;

    @Option(names = "--device", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
    String device = "cpu";

    @CommandLine.Mixin
    ThreadsOption threads;

    @Option(names = "--workers", paramLabel = "N", description = "data-loader threads (default: ${DEFAULT-VALUE})")
    int workers = 1;

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;

    @Option(names = "--overwrite", description = "delete what --out holds and start again (an --out that holds files is refused "
            + "unless --resume)")
    boolean overwrite;

    @Option(names = "--resume", description = "continue the run in --out from its last checkpoint")
    boolean resume;

    @Option(names = "--patience", paramLabel = "N", description = "stop after N evaluations without a lower validation loss (0 = never)")
    int patience;

    @Option(names = "--time-limit", paramLabel = "MINUTES", description = "start no epoch that would end past this many minutes (0 = none)")
    double timeLimitMinutes;

    @CommandLine.Mixin
    StepOptions steps;

    @Override
    public Integer call() {
        threads.apply();
        if (!ModelZoo.pretrainNames().contains(model))
            throw new IllegalArgumentException("unknown pre-training model '" + model + "'; known: " + String.join(", ", ModelZoo.pretrainNames()));
        if (resume && out == null) throw new CommandLine.ParameterException(spec.commandLine(), "--resume needs --out DIR (the run folder to continue)");
        if (resume && overwrite)
            throw new CommandLine.ParameterException(spec.commandLine(), "--resume continues the run in --out and --overwrite deletes it: give one of them");
        RunConfig cfg = steps.applyTo(new RunConfig(model, dataset, dataDir == null ? null : dataDir.toString(), epochs, batchSize, lr, "adamw",
                weightDecay, warmup, "cosine", seed, valSplit, limitTrain, device, 10, "val_loss", patience, 0.0, workers, false));
        Path run = out != null ? out : Path.of("runs", model + "-pretrain_" + dataset.replaceAll("[^A-Za-z0-9.-]+", "-") + "_"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        RunFolder.Mode mode = resume ? RunFolder.Mode.RESUME : overwrite ? RunFolder.Mode.OVERWRITE : RunFolder.Mode.NEW;
        try (RunFolder folder = RunFolder.claim(run, mode)) {
            folder.notes().forEach(System.out::println);
            PretrainRecipe.pretrain(cfg, new PretrainRecipe.MaeOptions(maskRatio, normPixLoss, samples), run,
                    new VisionRecipe.Session(new PrintStream(System.out, true), !noProgress, timeLimitMinutes), resume);
        }
        return 0;
    }
}
