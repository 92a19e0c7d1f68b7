package io.github.transformers4j.cli;

import io.github.transformers4j.recipes.RunConfig;
import io.github.transformers4j.train.RunFolder;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Where and how a training run goes: its folder (new, --resume, --overwrite), seed, device, data threads, progress bar
 * and time limit; declared once for {@code t4j train} and {@code t4j pretrain} (a picocli mixin).
 */
final class RunOptions {
    private static final RunConfig D = RunConfig.defaults();

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec mixee;

    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: runs/MODEL-TIME)")
    Path out;

    @Option(names = "--resume", description = "continue the run in --out from its last checkpoint")
    boolean resume;

    @Option(names = "--overwrite", description = "delete what --out holds and start again (without it, an --out that holds "
            + "files is refused unless --resume)")
    boolean overwrite;

    @Option(names = "--seed", description = "seed of initialisation, shuffling, splits, dropout and masks (default: ${DEFAULT-VALUE})")
    long seed = D.seed();

    @Option(names = "--device", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
    String device = D.device();

    @Option(names = "--workers", paramLabel = "N", description = "data-loader threads (default: ${DEFAULT-VALUE})")
    int workers = D.workers();

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;

    @Option(names = "--time-limit", paramLabel = "MINUTES", description = "start no epoch that would end past this many minutes "
            + "of training (0 = none; the schedule still spans --epochs)")
    double timeLimitMinutes;

    /** How the run folder is claimed: --resume, --overwrite, or a new run (a folder holding files is refused). */
    RunFolder.Mode folderMode() {
        // checked here, before the folder is claimed: nothing is written for a bad value
        if (!(timeLimitMinutes >= 0)) throw usage("--time-limit must be >= 0 minutes, got " + timeLimitMinutes);
        if (resume && overwrite) throw usage("--resume continues the run in --out and --overwrite deletes it: give one of them");
        if (resume && out == null) throw usage("--resume needs --out DIR (the run folder to continue)");
        return resume ? RunFolder.Mode.RESUME : overwrite ? RunFolder.Mode.OVERWRITE : RunFolder.Mode.NEW;
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(mixee.commandLine(), message);
    }
}
