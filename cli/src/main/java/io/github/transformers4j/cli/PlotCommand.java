package io.github.transformers4j.cli;

import io.github.transformers4j.train.Plots;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = {"Draw PNG charts from run folders' metrics.csv.",
                "Each run gets its loss.png and accuracy.png (re)drawn; with several runs, compare_loss.png and "
                        + "compare_accuracy.png overlay them (validation solid, training dashed, one colour per run)."})
final class PlotCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN", description = "run folders (holding metrics.csv)")
    List<Path> runs;

    @Option(names = "--out", paramLabel = "DIR", description = "where the comparison charts go (default: the current folder)")
    Path out = Path.of(".");

    @Override
    public Integer call() {
        for (Path run : runs) {
            if (!Files.isRegularFile(run.resolve("metrics.csv")))
                throw new IllegalArgumentException(run + " is not a run folder: it has no metrics.csv");
        }
        List<Path> written = new ArrayList<>();
        for (Path run : runs) written.addAll(Plots.writeRunPlots(run));
        if (runs.size() > 1) written.addAll(Plots.compare(runs, out));
        written.forEach(p -> System.out.println("wrote " + p));
        return 0;
    }
}
