package io.github.transformers4j.cli;

import io.github.transformers4j.data.text.TextPair;
import io.github.transformers4j.data.text.TextPairDataset;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.recipes.SummarizationRecipe;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Learn and try Hugging Face tokenizer.json tokenizers.",
        subcommands = {TokenizerCommand.Train.class, TokenizerCommand.Encode.class})
final class TokenizerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Learn a byte-level BPE vocabulary (GPT-2 style: every byte has a token, so nothing is unknown) and write "
                    + "a tokenizer.json that the Hugging Face tokenizers library loads. Special tokens: <pad> = 0, </s> = 1, <unk> = 2; "
                    + "encodings end with </s>.",
                    "--corpus is a JSONL/CSV pair file or a folder with train.jsonl (documents and summaries are both used), "
                            + "or a plain .txt file (one text per line)."})
    static final class Train implements Callable<Integer> {
        @Option(names = "--corpus", required = true, paramLabel = "PATH", description = "jsonl:DIR, DIR, FILE.jsonl, FILE.csv or FILE.txt")
        String corpus;

        @Option(names = "--vocab-size", paramLabel = "N", description = "vocabulary size, special tokens and bytes included (default: ${DEFAULT-VALUE})")
        int vocabSize = 16000;

        @Option(names = "--min-frequency", paramLabel = "N", description = "stop when the best pair occurs fewer times (default: ${DEFAULT-VALUE})")
        int minFrequency = 2;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "the tokenizer.json to write")
        Path out;

        @Override
        public Integer call() throws Exception {
            String c = corpus.startsWith("jsonl:") ? corpus.substring(6) : corpus;
            Path p = Path.of(c);
            List<TextPair> pairs = new ArrayList<>();
            if (Files.isDirectory(p)) pairs.addAll(TextPairDataset.open(p, "train", TextPairDataset.Fields.DEFAULT).pairs());
            else if (c.endsWith(".txt")) Files.readAllLines(p).forEach(l -> pairs.add(new TextPair("", l, "")));
            else pairs.addAll(TextPairDataset.read(p, TextPairDataset.Fields.DEFAULT).pairs());
            Tokenizer t = SummarizationRecipe.trainTokenizer(pairs, vocabSize, minFrequency, new PrintStream(System.out, true));
            t.save(out);
            System.out.println("wrote " + out);
            return 0;
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true, description = "Print the token ids and tokens of a text.")
    static final class Encode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "a tokenizer.json")
        Path tokenizer;

        @Parameters(paramLabel = "TEXT", description = "the text")
        String text;

        @Override
        public Integer call() {
            Tokenizer t = Tokenizer.load(tokenizer);
            int[] ids = t.encode(text);
            System.out.println(Arrays.toString(ids));
            System.out.println(t.tokenize(text, true));
            System.out.printf(Locale.ROOT, "%d tokens; decoded: %s%n", ids.length, t.decode(ids, true));
            return 0;
        }
    }
}
