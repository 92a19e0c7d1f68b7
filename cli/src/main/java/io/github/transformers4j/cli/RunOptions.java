package io.github.transformers4j.cli;

import io.github.transformers4j.recipes.RunConfig;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.train.RunFolder;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Where and how a training run goes: its folder (new, --resume, --overwrite), seed, device, precision, CUDA graphs, data
 * threads, progress bar and time limit; declared once for {@code t4j train} and {@code t4j pretrain} (a picocli mixin).
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

    @Option(names = "--precision", description = "fp32, or bf16 (with --device cuda): products with bf16 operands and fp32 "
            + "accumulation, weights, optimizer and everything else in fp32 (default: ${DEFAULT-VALUE})")
    String precision = "fp32";

    @Option(names = "--no-cuda-graphs", description = "with --device cuda: run every training step eagerly instead of capturing it "
            + "once into a CUDA graph and replaying it (capture is the default; loss and accuracy are then read every --log-every steps)")
    boolean noCudaGraphs;

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

    /** bf16 is refused on the CPU, with the reason; an unknown device name is left to the run configuration to report. */
    void checkPrecision() {
        boolean cpu;
        try {
            cpu = Device.parse(device).type() == Device.Type.CPU;
        } catch (IllegalArgumentException e) {
            cpu = false;
        }
        if ("bf16".equalsIgnoreCase(precision) && cpu)
            throw usage("--precision bf16 is for --device cuda: on the CPU the bf16 products have no bf16 hardware to run on and a "
                    + "step takes about 2.6 times as long as in fp32 (vit-mini-p4 on 2 cores: 56 against 146 images/s); train "
                    + "in fp32 on the CPU (the default), or give --device cuda");
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(mixee.commandLine(), message);
    }
}
