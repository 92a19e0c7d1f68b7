package io.github.transformers4j.cli;

import io.github.transformers4j.train.RunFolder;
import io.github.transformers4j.recipes.SummarizationConfig;
import io.github.transformers4j.recipes.SummarizationRecipe;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options {@code t4j train} takes for sequence-to-sequence presets ({@code --model summarizer-4x512}, ...), and the
 * hand-over to {@link SummarizationRecipe}. Shared options (--epochs, --batch-size, --lr, ...) are read from the train
 * command; where the user did not give one, the summarization recipe's defaults apply (AdamW lr 1e-4, weight decay
 * 0.01, 10% warm-up then linear decay, 10 epochs, batch 16).
 */
final class Seq2SeqTrainOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "seq2seq: a tokenizer.json (default: DIR/tokenizer.json, else learn a byte-level BPE)")
    Path tokenizer;

    @Option(names = "--vocab-size", paramLabel = "N", description = "seq2seq: size of the BPE vocabulary to learn (default: 16000)")
    Integer vocabSize;

    @Option(names = "--max-source-length", paramLabel = "N", description = "seq2seq: source tokens kept, EOS included (default: 512)")
    Integer maxSourceLength;

    @Option(names = "--max-target-length", paramLabel = "N", description = "seq2seq: summary tokens kept, EOS included (default: 64)")
    Integer maxTargetLength;

    @Option(names = "--limit-eval", paramLabel = "N", description = "seq2seq: score ROUGE on the first N test pairs (0 = all; default: 1000)")
    Integer limitEval;

    @Option(names = "--beam-size", paramLabel = "N", description = "seq2seq: beams for the test summaries (1 = greedy; default: 4)")
    Integer beamSize;

    @Option(names = "--document-field", paramLabel = "NAME", description = "seq2seq: JSON field / CSV column of the documents (default: document)")
    String documentField;

    @Option(names = "--summary-field", paramLabel = "NAME", description = "seq2seq: JSON field / CSV column of the summaries (default: summary)")
    String summaryField;

    private boolean given(String option) {
        return mixee.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** The options given with --resume that would change how a summarizer run trains, each with the run's value. */
    static List<String> changedOnResume(SummarizationConfig saved, SummarizationConfig asked, java.util.function.Predicate<String> given) {
        Map<String, Function<SummarizationConfig, Object>> fixed = new LinkedHashMap<>();
        fixed.put("--model", SummarizationConfig::model);
        fixed.put("--dataset", SummarizationConfig::dataset);
        fixed.put("--tokenizer", SummarizationConfig::tokenizer);
        fixed.put("--vocab-size", SummarizationConfig::vocabSize);
        fixed.put("--max-source-length", SummarizationConfig::maxSourceLength);
        fixed.put("--max-target-length", SummarizationConfig::maxTargetLength);
        fixed.put("--epochs", SummarizationConfig::epochs);
        fixed.put("--batch-size", SummarizationConfig::batchSize);
        fixed.put("--lr", SummarizationConfig::lr);
        fixed.put("--weight-decay", SummarizationConfig::weightDecay);
        fixed.put("--warmup", SummarizationConfig::warmup);
        fixed.put("--clip-grad-norm", SummarizationConfig::clipGradNorm);
        fixed.put("--seed", SummarizationConfig::seed);
        fixed.put("--log-every", SummarizationConfig::logEvery);
        fixed.put("--patience", SummarizationConfig::patience);
        fixed.put("--limit-train", SummarizationConfig::limitTrain);
        fixed.put("--precision", SummarizationConfig::precision);
        fixed.put("--document-field", SummarizationConfig::documentField);
        fixed.put("--summary-field", SummarizationConfig::summaryField);
        fixed.put("--gradient-accumulation", SummarizationConfig::gradientAccumulation);
        fixed.put("--eval-steps", SummarizationConfig::evalSteps);
        fixed.put("--save-steps", SummarizationConfig::saveSteps);
        fixed.put("--save-total-limit", SummarizationConfig::saveTotalLimit);
        return TrainCommand.changed(fixed, saved, asked, given);
    }

    int train(TrainCommand c) {
        if (io.github.transformers4j.data.vision.VisionDatasets.NAMES.contains(c.data.dataset) || c.data.dataset.startsWith("imagefolder:"))
            throw c.usage("--model " + c.model + " is a summarizer, which trains on text pairs (--dataset jsonl:DIR, e.g. from "
                    + "'t4j data debian-descriptions --out DIR'); got the image data set " + c.data.dataset);
        SummarizationConfig d = SummarizationConfig.defaults(c.model, c.data.dataset);
        SummarizationConfig cfg = new SummarizationConfig(c.model, c.data.dataset, tokenizer == null ? null : tokenizer.toString(),
                vocabSize != null ? vocabSize : d.vocabSize(), maxSourceLength != null ? maxSourceLength : d.maxSourceLength(),
                maxTargetLength != null ? maxTargetLength : d.maxTargetLength(), given("--epochs") ? c.epochs : d.epochs(),
                given("--batch-size") ? c.batchSize : d.batchSize(), given("--lr") ? c.lr : d.lr(),
                given("--weight-decay") ? c.weightDecay : d.weightDecay(), given("--warmup") ? c.warmup : d.warmup(),
                given("--clip-grad-norm") ? c.clipGradNorm : d.clipGradNorm(), c.runOptions.seed, c.runOptions.device, c.logEvery, c.patience, c.runOptions.workers,
                c.data.limitTrain, limitEval != null ? limitEval : d.limitEval(), beamSize != null ? beamSize : d.beamSize(), d.lengthPenalty(),
                d.noRepeatNgramSize(), d.maxGenLength(), documentField != null ? documentField : d.documentField(),
                summaryField != null ? summaryField : d.summaryField(), c.runOptions.precision);
        if (given("--optimizer") && !c.optimizer.equals("adamw") || given("--schedule") && !c.schedule.equals("linear"))
            throw new IllegalArgumentException("seq2seq training uses AdamW with a linear schedule after the warm-up; drop --optimizer/--schedule");
        try {
            c.steps.checked();
        } catch (IllegalArgumentException e) {
            throw c.usage(e.getMessage());
        }
        cfg = cfg.withSteps(c.steps.gradientAccumulation, c.steps.evalSteps, c.steps.saveSteps, c.steps.saveTotalLimit);
        Path run = c.runOptions.out != null ? c.runOptions.out : Path.of("runs", c.model + "_" + Path.of(cfg.dataDir()).getFileName() + "_"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path savedConfig = run.resolve(io.github.transformers4j.recipes.VisionRecipe.CONFIG);
        if (c.runOptions.resume && java.nio.file.Files.isRegularFile(savedConfig)) {
            List<String> changed = changedOnResume(SummarizationRecipe.readConfig(savedConfig), cfg, this::given);
            if (!changed.isEmpty()) {
                throw c.usage("--resume continues the run in " + run + " as it was configured, but " + String.join(", ", changed)
                        + "; drop " + (changed.size() == 1 ? "that option" : "those options") + ", or start a new run (another --out, or --overwrite)");
            }
        }
        try (RunFolder folder = RunFolder.claim(run, c.runOptions.folderMode())) {
            folder.onInterrupt(System.err, "interrupted: the last checkpoint is saved in " + run + "; resume with: t4j train --model "
                    + c.model + " --out " + run + " --resume");
            folder.notes().forEach(System.out::println);
            SummarizationRecipe.train(cfg, run, c.runOptions.resume, new SummarizationRecipe.Session(new PrintStream(System.out, true),
                    !c.runOptions.noProgress, c.runOptions.timeLimitMinutes, !c.runOptions.noCudaGraphs));
        }
        return 0;
    }
}
