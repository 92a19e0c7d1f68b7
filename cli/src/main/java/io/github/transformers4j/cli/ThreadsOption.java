package io.github.transformers4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --threads N}, declared once for every command that runs tensor code (a picocli mixin). */
final class ThreadsOption {
    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec mixee;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for tensor kernels (default: all cores)")
    Integer threads;

    /** Sizes the CPU thread pool; call before any tensor code runs. */
    void apply() {
        T4j.threads(mixee, threads);
    }
}
