package io.github.transformers4j.cli;

import io.github.transformers4j.recipes.SummarizationRecipe;
import java.io.PrintStream;
import picocli.CommandLine.Option;

/** {@code t4j eval} options for summarization checkpoints ({@code --metric rouge}), handed to {@link SummarizationRecipe#evaluate}. */
final class Seq2SeqEvalOptions {
    @Option(names = "--metric", description = "accuracy (image classifiers) or rouge (summarizers; the default for their checkpoints)")
    String metric;

    @Option(names = "--limit", paramLabel = "N", description = "rouge: score the first N pairs of the split (0 = all; default: the run's --limit-eval)")
    Integer limit;

    @Option(names = "--beam-size", paramLabel = "N", description = "rouge: beams (1 = greedy; default: the run's)")
    Integer beamSize;

    @Option(names = "--max-gen-length", paramLabel = "N", description = "rouge: most generated tokens (default: the run's)")
    Integer maxGenLength;

    @Option(names = "--device", description = "cpu or cuda[:N] (default: cpu); image classifiers and summarizers alike")
    String device;

    /** True when this evaluation is a summarizer's. */
    boolean applies(EvalCommand c) {
        if ("rouge".equalsIgnoreCase(metric)) return true;
        if (metric != null && !metric.equalsIgnoreCase("accuracy"))
            throw new IllegalArgumentException("--metric must be accuracy or rouge, got '" + metric + "'");
        return metric == null && SummarizationRecipe.isSummarizationCheckpoint(c.checkpoint);
    }

    int run(EvalCommand c) {
        String split = c.split.equals("val") ? "validation" : c.split;
        SummarizationRecipe.evaluate(c.checkpoint, c.dataset, split, limit, beamSize, maxGenLength, device,
                new SummarizationRecipe.Session(new PrintStream(System.out, true), false));
        return 0;
    }
}
