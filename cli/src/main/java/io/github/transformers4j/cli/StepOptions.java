package io.github.transformers4j.cli;

import io.github.transformers4j.recipes.RunConfig;
import picocli.CommandLine.Option;

/**
 * The training loop's step options, declared once for {@code t4j train} (image classifiers, BERT, summarizers) and
 * {@code t4j pretrain} (a picocli mixin); part of the run's configuration, so --resume refuses to change them.
 */
final class StepOptions {
    @Option(names = "--gradient-accumulation", paramLabel = "N", description = "micro-batches of --batch-size per optimizer step: "
            + "the gradient of one batch N times as large (default: ${DEFAULT-VALUE})")
    int gradientAccumulation = 1;

    @Option(names = "--eval-steps", paramLabel = "N", description = "a validation pass (an eval row in metrics.csv) every N optimizer "
            + "steps, besides every epoch's end (0 = epochs only)")
    int evalSteps;

    @Option(names = "--save-steps", paramLabel = "N", description = "write checkpoints/last.safetensors every N optimizer steps too, "
            + "so --resume continues mid-epoch (0 = after every epoch only)")
    int saveSteps;

    @Option(names = "--save-total-limit", paramLabel = "N", description = "with --save-steps, keep the N newest step snapshots "
            + "checkpoints/step-S.safetensors besides last and best (0 = none, -1 = all) (default: ${DEFAULT-VALUE})")
    int saveTotalLimit;

    /**
     * Checked here, not only by the configurations: one read from an older config.json takes 0 for 1.
     */
    StepOptions checked() {
        if (gradientAccumulation < 1) throw new IllegalArgumentException("--gradient-accumulation must be >= 1, got " + gradientAccumulation);
        return this;
    }

    RunConfig applyTo(RunConfig c) {
        checked();
        return c.withSteps(gradientAccumulation, evalSteps, saveSteps, saveTotalLimit);
    }
}
