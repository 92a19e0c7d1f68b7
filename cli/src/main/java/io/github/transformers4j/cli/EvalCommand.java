package io.github.transformers4j.cli;

import io.github.transformers4j.recipes.VisionRecipe;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a checkpoint: loss, accuracy, confusion matrix and per-class table (the same report as "
                + "the training's test pass). The model, its input normalisation and the data split come from the checkpoint.")
final class EvalCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "a checkpoint, e.g. runs/NAME/checkpoints/best.safetensors")
    Path checkpoint;

    @Option(names = "--dataset", description = "data set (default: the one the checkpoint was trained on)")
    String dataset;

    @Option(names = "--split", description = "test, val or train (default: ${DEFAULT-VALUE})")
    String split = "test";

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder holding the data set")
    Path dataDir;

    @Option(names = "--batch-size", paramLabel = "N", description = "images per batch (default: the run's evaluation batch, at least 256)")
    int batchSize;

    @Option(names = "--no-progress", description = "no progress bar (there is none when the output is not a terminal)")
    boolean noProgress;

    @CommandLine.Mixin
    ThreadsOption threads;

    @picocli.CommandLine.Mixin
    Seq2SeqEvalOptions seq2seq;

    @Override
    public Integer call() {
        threads.apply();
        if (batchSize < 0) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--batch-size must be positive, got " + batchSize);
        if (!java.util.List.of("test", "val", "train").contains(split))
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--split must be test, val or train, got '" + split + "'");
        if (seq2seq.applies(this)) return seq2seq.run(this);
        VisionRecipe.evaluate(checkpoint, dataset, split, dataDir == null ? null : dataDir.toString(),
                seq2seq.device == null ? "cpu" : seq2seq.device, batchSize,
                new VisionRecipe.Session(new PrintStream(System.out, true), !noProgress));
        return 0;
    }
}
