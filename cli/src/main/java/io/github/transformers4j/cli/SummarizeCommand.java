package io.github.transformers4j.cli;

import io.github.transformers4j.models.seq2seq.GenerationConfig;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.recipes.SummarizationRecipe;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "summarize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Summarize text with a trained summarizer checkpoint (which carries its tokenizer).",
                "Reads each FILE (or standard input when none is given, or '-') as one document; with --lines, every non-empty line "
                        + "is a document. Prints one summary per document."},
        footer = {"", "Examples:", "  t4j summarize --checkpoint runs/RUN/checkpoints/best.safetensors README.txt",
                "  apt-cache show bash | t4j summarize --checkpoint best.safetensors --beam-size 4"})
final class SummarizeCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "a summarization checkpoint")
    Path checkpoint;

    @Parameters(arity = "0..*", paramLabel = "FILE", description = "documents to summarize (default: standard input)")
    List<String> files = new ArrayList<>();

    @Option(names = "--lines", description = "one document per line")
    boolean lines;

    @Option(names = "--beam-size", paramLabel = "N", description = "beams (1 = greedy) (default: ${DEFAULT-VALUE})")
    int beamSize = 4;

    @Option(names = "--max-length", paramLabel = "N", description = "most generated tokens (default: ${DEFAULT-VALUE})")
    int maxLength = 64;

    @Option(names = "--length-penalty", description = "beam score = log-prob / length^penalty (default: ${DEFAULT-VALUE})")
    double lengthPenalty = 1.0;

    @Option(names = "--no-repeat-ngram", paramLabel = "N", description = "forbid repeated N-grams (0 = off) (default: ${DEFAULT-VALUE})")
    int noRepeatNgram = 3;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() {
        threads.apply();
        List<String> docs = new ArrayList<>();
        if (files.isEmpty()) files.add("-");
        for (String f : files) {
            String text = read(f);
            if (lines) text.lines().filter(l -> !l.isBlank()).forEach(docs::add);
            else docs.add(text);
        }
        var loaded = SummarizationRecipe.load(checkpoint);
        var gen = new GenerationConfig(maxLength, 0, beamSize, lengthPenalty, noRepeatNgram, true);
        for (String s : SummarizationRecipe.summarize(loaded.model(), loaded.tokenizer(), loaded.collator(), docs, gen, 16, Device.CPU)) {
            System.out.println(s);
        }
        return 0;
    }

    private static String read(String f) {
        try {
            if (f.equals("-")) return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
            return Files.readString(Path.of(f), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }
}
