package io.github.transformers4j.cli;

import io.github.transformers4j.recipes.RunConfig;
import io.github.transformers4j.train.RunFolder;
import io.github.transformers4j.recipes.TextClassificationRecipe;
import io.github.transformers4j.recipes.VisionRecipe;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an image classifier and write a run folder: config.json, metrics.csv/.jsonl, train.log, "
                + "checkpoints/last|best.safetensors, loss/accuracy/confusion-matrix PNGs, test_report.txt.",
                "The defaults reach about 86-88%% test accuracy on Fashion-MNIST in 3 epochs."},
        footer = {"", "Resume an interrupted run with the same --out and --resume: it continues from the last checkpoint (after "
                + "every epoch, and every --save-steps steps when given) with the run's saved configuration, and ends as an uninterrupted run would. --resume with a larger "
                + "--epochs extends a run (its learning-rate schedule is recomputed for the new length); other options that "
                + "define the run are refused on resume.",
                "Image folders (--dataset imagefolder:PATH): PATH/<class>/<images>, or PATH/train/<class>/... with "
                + "PATH/test/ and PATH/val/ (the validation set) where present; see docs/DATASETS.md."})
final class TrainCommand implements Callable<Integer> {
    static final RunConfig D = RunConfig.defaults();

    @Option(names = "--model", description = "model preset (list them with 't4j models'): vit-mini-p4, vit-tiny-p4, vit-conv-p16, "
            + "vit-sincos-p8, vit-window-p4, vit-bert12-p4, vit-einsum-p16, gru-p16, lstm-p16, rnn-p16, mae-tiny; summarizers: "
            + "summarizer-4x512, summarizer-tiny (default: ${DEFAULT-VALUE})")
    String model = D.model();

    @Option(names = "--epochs", description = "epochs (default: ${DEFAULT-VALUE})")
    int epochs = D.epochs();

    @Option(names = "--batch-size", description = "training batch size (default: ${DEFAULT-VALUE})")
    int batchSize = D.batchSize();

    @Option(names = "--lr", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr = D.lr();

    @Option(names = "--optimizer", description = "adamw, adam or sgd (momentum 0.9) (default: ${DEFAULT-VALUE})")
    String optimizer = D.optimizer().toString();

    @Option(names = "--weight-decay", description = "weight decay on weight matrices (default: ${DEFAULT-VALUE})")
    double weightDecay = D.weightDecay();

    @Option(names = "--warmup", description = "linear warm-up: fraction of all steps if < 1, else steps (default: ${DEFAULT-VALUE})")
    double warmup = D.warmup();

    @Option(names = "--schedule", description = "cosine, linear, step or constant, after the warm-up (default: ${DEFAULT-VALUE})")
    String schedule = D.schedule().toString();

    @Option(names = "--image-size", paramLabel = "N", description = "resize (shorter side) and centre-crop images to NxN "
            + "(default: the data set's size; image folders: the most common size)")
    int imageSize;

    @Option(names = "--background", description = "white or black: what transparent pixels of image-folder images are "
            + "composited on (default: ${DEFAULT-VALUE})")
    String background = "white";

    @Option(names = "--skip-bad-images", description = "train without the image-folder files that cannot be read (each is "
            + "named); without it they are an error before training starts")
    boolean skipBadImages;

    @Option(names = "--limit-test", paramLabel = "N", description = "test the best checkpoint on a seeded random N test images (0 = all)")
    int limitTest;

    @Option(names = "--no-test", description = "no test pass after training")
    boolean noTest;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Option(names = "--augment", description = "random crop (zero padding --crop-padding) and horizontal flip of training images")
    boolean augment;

    @Option(names = "--crop-padding", paramLabel = "N", description = "with --augment: zeros padded on every side before the "
            + "random crop (default: ${DEFAULT-VALUE}, CIFAR's; 2 moves 28 x 28 images less)")
    int cropPadding = D.cropPadding();

    @Option(names = "--random-erasing", paramLabel = "P", description = "random erasing (Zhong et al.; timm's --reprob): with "
            + "probability P a rectangle of 2-33%% of a training image, aspect 0.3-3.3, replaced by N(0, 1) noise after "
            + "normalisation (0 = off; 0.25 is timm's) (default: ${DEFAULT-VALUE})")
    double randomErasing;

    @Option(names = "--label-smoothing", paramLabel = "X", description = "label smoothing of the training loss, as PyTorch's "
            + "CrossEntropyLoss(label_smoothing=X); validation and test losses stay plain cross-entropy (default: ${DEFAULT-VALUE})")
    double labelSmoothing;

    @Option(names = "--mixup", paramLabel = "ALPHA", description = "mixup of the training batches: each image blended with "
            + "another of its batch, lambda ~ Beta(ALPHA, ALPHA), the loss mixed alike (0 = off; 0.8 is timm's) (default: ${DEFAULT-VALUE})")
    double mixup;

    @Option(names = "--cutmix", paramLabel = "ALPHA", description = "CutMix of the training batches: a box of another image of "
            + "the batch pasted in, its area ~ Beta(ALPHA, ALPHA); with --mixup, half of the batches each (0 = off; 1.0 is timm's) "
            + "(default: ${DEFAULT-VALUE})")
    double cutmix;

    @Option(names = "--drop-path", paramLabel = "RATE", description = "stochastic depth of a ViT's blocks, as timm's drop_path_rate: "
            + "each block's residual branches dropped per sample while training, with a probability rising from 0 at the first "
            + "block to RATE at the last (0 = off; 0.1 is timm's for small ViTs) (default: ${DEFAULT-VALUE})")
    double dropPath;

    @Option(names = "--ema", paramLabel = "DECAY", description = "exponential moving average of the weights, updated after every "
            + "step (timm's ModelEmaV2): validation, the test pass and the checkpoints' evaluation weights use it; e.g. 0.999 for a "
            + "few thousand steps (0 = off) (default: ${DEFAULT-VALUE})")
    double ema;

    @Option(names = "--monitor", description = "val_loss, val_acc, train_loss or train_acc: picks the best checkpoint (default: ${DEFAULT-VALUE})")
    String monitor = D.monitor().toString();

    @Option(names = "--patience", paramLabel = "N", description = "stop after N epochs without improvement of --monitor (0 = never) (default: ${DEFAULT-VALUE})")
    int patience = D.patience();

    @Option(names = "--clip-grad-norm", paramLabel = "X", description = "clip the global gradient norm (0 = off) (default: ${DEFAULT-VALUE})")
    double clipGradNorm = D.clipGradNorm();

    @Option(names = "--log-every", paramLabel = "N", description = "a training-loss row in metrics.csv every N steps (default: ${DEFAULT-VALUE})")
    int logEvery = D.logEvery();

    @Option(names = "--init-from", paramLabel = "FILE", description = {"start from a checkpoint's weights (for mae-tiny: the encoder of a 't4j pretrain' "
            + "checkpoint), or hf:DIR: fine-tune a Hugging Face ViT folder (config.json, model.safetensors, preprocessor_config.json) "
            + "with a new head for the data set's classes; --model then defaults to hf:DIR and images are resized to its size"})
    Path initFrom;

    @Option(names = "--max-length", paramLabel = "N", description = "text classification: longest input in tokens, longer texts are truncated (default: ${DEFAULT-VALUE})")
    int maxLength = 128;

    @Option(names = "--freeze-encoder", description = "linear probe: train only the head on a frozen encoder (mae-tiny)")
    boolean freezeEncoder;

    @CommandLine.Mixin
    DataOptions data;

    @CommandLine.Mixin
    RunOptions runOptions;

    @CommandLine.Mixin
    StepOptions steps;

    @picocli.CommandLine.Mixin
    Seq2SeqTrainOptions seq2seq;

    @Spec
    CommandSpec spec;

    /**
     * With --resume on a run that has a config.json: the options given on this command line that would change how the
     * run trains, each with the run's value. Where the data are, the device, threads, workers, the progress bar, the time
     * limit, the test pass and CUDA graphs may change; --epochs may grow (checked by the caller).
     */
    static List<String> changedOnResume(RunConfig saved, RunConfig asked, Predicate<String> given) {
        Map<String, Function<RunConfig, Object>> fixed = new LinkedHashMap<>();
        fixed.put("--model", RunConfig::model);
        fixed.put("--dataset", RunConfig::dataset);
        fixed.put("--batch-size", RunConfig::batchSize);
        fixed.put("--lr", RunConfig::lr);
        fixed.put("--optimizer", RunConfig::optimizer);
        fixed.put("--weight-decay", RunConfig::weightDecay);
        fixed.put("--warmup", RunConfig::warmup);
        fixed.put("--schedule", RunConfig::schedule);
        fixed.put("--seed", RunConfig::seed);
        fixed.put("--val-split", RunConfig::valSplit);
        fixed.put("--limit-train", RunConfig::limitTrain);
        fixed.put("--log-every", RunConfig::logEvery);
        fixed.put("--monitor", RunConfig::monitor);
        fixed.put("--patience", RunConfig::patience);
        fixed.put("--clip-grad-norm", RunConfig::clipGradNorm);
        fixed.put("--augment", RunConfig::augment);
        fixed.put("--crop-padding", RunConfig::cropPadding);
        fixed.put("--random-erasing", RunConfig::randomErasing);
        fixed.put("--label-smoothing", RunConfig::labelSmoothing);
        fixed.put("--mixup", RunConfig::mixup);
        fixed.put("--cutmix", RunConfig::cutmix);
        fixed.put("--drop-path", RunConfig::dropPath);
        fixed.put("--ema", RunConfig::ema);
        fixed.put("--init-from", RunConfig::initFrom);
        fixed.put("--freeze-encoder", RunConfig::freezeEncoder);
        fixed.put("--precision", RunConfig::precision);
        fixed.put("--image-size", RunConfig::imageSize);
        fixed.put("--background", RunConfig::background);
        fixed.put("--skip-bad-images", RunConfig::skipBadImages);
        fixed.put("--gradient-accumulation", RunConfig::gradientAccumulation);
        fixed.put("--eval-steps", RunConfig::evalSteps);
        fixed.put("--save-steps", RunConfig::saveSteps);
        fixed.put("--save-total-limit", RunConfig::saveTotalLimit);
        return changed(fixed, saved, asked, given);
    }

    /**
     * The configuration a --resume goes on with: the run's saved one, where the data are as given, and --epochs when
     * given and not fewer; options given that would change the run are refused by name (t4j train and pretrain).
     */
    static RunConfig continued(RunConfig saved, RunConfig asked, Path run, Predicate<String> given,
                               Function<String, ParameterException> usage) {
        refuseChanged(changedOnResume(saved, asked, given), run, usage);
        if (given.test("--epochs") && asked.epochs() < saved.epochs())
            throw usage.apply("--epochs " + asked.epochs() + " on --resume would shorten the run, configured for " + saved.epochs()
                    + " epochs; --epochs may only grow (to extend a run)");
        return saved.withData(saved.dataset(), asked.dataDir() != null ? asked.dataDir() : saved.dataDir())
                .withEpochs(given.test("--epochs") ? asked.epochs() : saved.epochs());
    }

    /** The usage error of a --resume given options (from {@link #changed}) that would change the run; nothing when none. */
    static void refuseChanged(List<String> changed, Path run, Function<String, ParameterException> usage) {
        if (changed.isEmpty()) return;
        throw usage.apply("--resume continues the run in " + run + " as it was configured, but "
                + String.join(", ", changed) + "; drop " + (changed.size() == 1 ? "that option" : "those options")
                + ", or start a new run (another --out, or --overwrite)");
    }

    /** Of the options given (by name, with how to read each from a run configuration): those whose value differs from the run's. */
    static <C> List<String> changed(Map<String, Function<C, Object>> options, C saved, C asked, Predicate<String> given) {
        List<String> changed = new ArrayList<>();
        options.forEach((option, value) -> {
            if (given.test(option) && !Objects.equals(value.apply(saved), value.apply(asked)))
                changed.add(option + " " + value.apply(asked) + " (the run has " + value.apply(saved) + ")");
        });
        return changed;
    }

    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Whether --init-from hf:DIR names a text model (BERT): then --dataset is a folder of labelled JSONL texts. */
    private boolean isHfText() {
        if (initFrom == null || !initFrom.toString().startsWith("hf:")) return false;
        try {
            return io.github.transformers4j.models.hf.HfModels.isText(Path.of(initFrom.toString().substring(3)));
        } catch (IllegalArgumentException e) {
            throw usage("--init-from " + initFrom + ": " + e.getMessage());
        }
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    @Override
    public Integer call() {
        threads.apply();
        runOptions.checkPrecision();
        if (io.github.transformers4j.models.ModelZoo.has(model, io.github.transformers4j.models.ModelZoo.Task.SEQ2SEQ)) return seq2seq.train(this);
        boolean text = isHfText();
        if (data.dataset.startsWith("jsonl:") && !text)
            throw usage("--dataset " + data.dataset + " holds text pairs, which summarizer models train on (--model summarizer-4x512 or "
                    + "summarizer-tiny); " + model + " is an image classifier: give an image data set");
        if (runOptions.resume && runOptions.out == null) throw usage("--resume needs --out DIR (the run folder to continue)");
        if (initFrom != null && initFrom.toString().startsWith("hf:")) {
            if (!given("--model")) model = initFrom.toString();
            else if (!model.equals(initFrom.toString()))
                throw usage("--init-from " + initFrom + " fine-tunes that Hugging Face model: leave --model out (or give --model " + initFrom + ")");
        }
        if (limitTest < 0) throw usage("--limit-test must be >= 0 (0 = all test images), got " + limitTest);
        if (noTest && given("--limit-test")) throw usage("--no-test and --limit-test contradict each other: give one of them");
        try {
            if (!model.startsWith("hf:")) io.github.transformers4j.models.ModelZoo.preset(model);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        String runName = model.startsWith("hf:") ? "hf-" + Path.of(model.substring(3)).toAbsolutePath().normalize().getFileName() : model;
        Path run = runOptions.out != null ? runOptions.out : Path.of("runs", runName + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        RunConfig cfg;
        try {
            cfg = RunConfig.builder().model(model).dataset(data.dataset).dataDir(data.dataDir == null ? null : data.dataDir.toString())
                    .epochs(epochs).batchSize(batchSize).lr(lr).optimizer(optimizer).weightDecay(weightDecay).warmup(warmup)
                    .schedule(schedule).seed(runOptions.seed).valSplit(data.valSplit).limitTrain(data.limitTrain).device(runOptions.device)
                    .logEvery(logEvery).monitor(monitor).patience(patience).clipGradNorm(clipGradNorm).workers(runOptions.workers)
                    .augment(augment).cropPadding(cropPadding).randomErasing(randomErasing).labelSmoothing(labelSmoothing).mixup(mixup).cutmix(cutmix).dropPath(dropPath).ema(ema).initFrom(initFrom == null ? null : initFrom.toString()).freezeEncoder(freezeEncoder)
                    .precision(runOptions.precision).imageSize(imageSize).background(background).skipBadImages(skipBadImages).build();
            cfg = steps.applyTo(cfg);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        Path savedConfig = run.resolve(VisionRecipe.CONFIG);
        if (runOptions.resume && Files.isRegularFile(savedConfig)) {
            cfg = continued(VisionRecipe.readRunConfig(savedConfig), cfg, run, this::given, this::usage);
        }
        int testLimit = noTest ? -1 : limitTest;
        if (runOptions.resume && Files.isRegularFile(savedConfig) && !given("--limit-test") && !given("--no-test")) {
            testLimit = VisionRecipe.savedTestLimit(savedConfig); // the run's own test pass (a crash must not change it)
        }
        try (RunFolder folder = RunFolder.claim(run, runOptions.folderMode())) {
            folder.onInterrupt(System.err, "interrupted: the last checkpoint is saved in " + run + "; resume with: t4j train --out "
                    + run + " --resume");
            folder.notes().forEach(System.out::println);
            var session = new VisionRecipe.Session(new PrintStream(System.out, true), !runOptions.noProgress, runOptions.timeLimitMinutes, !runOptions.noCudaGraphs,
                    testLimit);
            if (text) TextClassificationRecipe.train(cfg, run, runOptions.resume, session, maxLength);
            else VisionRecipe.train(cfg, run, runOptions.resume, session);
        }
        return 0;
    }
}
