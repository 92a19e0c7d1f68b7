package io.github.transformers4j.cli;

import io.github.transformers4j.recipes.RunConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which data a run trains on, declared once for {@code t4j train} and {@code t4j pretrain} (a picocli mixin). */
final class DataOptions {
    private static final RunConfig D = RunConfig.defaults();

    @Option(names = "--dataset", description = "fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse or imagefolder:PATH; "
            + "t4j train: for summarizers jsonl:DIR (default: ${DEFAULT-VALUE})")
    String dataset = D.dataset();

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder holding the data set (default: search ./data, "
            + "~/.cache/transformers4j, system folders; download when possible)")
    Path dataDir;

    @Option(names = "--val-split", description = "fraction of the training set held out for validation (default: ${DEFAULT-VALUE})")
    double valSplit = D.valSplit();

    @Option(names = "--limit-train", paramLabel = "N", description = "train on a seeded random subset of N examples (0 = all)")
    int limitTrain = D.limitTrain();
}
