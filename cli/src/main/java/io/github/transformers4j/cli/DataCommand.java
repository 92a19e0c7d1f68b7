package io.github.transformers4j.cli;

import io.github.transformers4j.data.text.DebianDescriptions;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "data", mixinStandardHelpOptions = true, description = "Build data sets.",
        subcommands = {DataCommand.DebianDescriptionsCommand.class})
final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "debian-descriptions", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"A summarization corpus from Debian's English package descriptions: document = long description, "
                    + "summary = one-line synopsis; writes DIR/train.jsonl, validation.jsonl, test.jsonl ({id, document, summary}).",
                    "Reads /var/lib/apt/lists/*_i18n_Translation-en* (fetch them as root with: apt-get -o Acquire::Languages=en update) "
                            + "and the Packages lists beside them for source package names; drops empty and duplicate documents; splits "
                            + "90/5/5 by a hash of the source package."})
    static final class DebianDescriptionsCommand implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
        Path out;

        @Option(names = "--lists", paramLabel = "DIR", description = "apt lists folder (default: ${DEFAULT-VALUE})")
        Path lists = DebianDescriptions.APT_LISTS;

        @Override
        public Integer call() {
            var c = DebianDescriptions.fromAptLists(lists, System.out::println);
            DebianDescriptions.write(c, out);
            DebianDescriptions.counts(c).forEach((k, v) -> System.out.printf(Locale.ROOT, "%-28s %,9d%n", k, v));
            System.out.println("wrote " + out.resolve("train.jsonl") + ", validation.jsonl, test.jsonl");
            return 0;
        }
    }
}
