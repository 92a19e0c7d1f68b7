package io.github.transformers4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code t4j} command: train, evaluate, plot, inspect and benchmark transformers. */
@Command(name = "t4j", mixinStandardHelpOptions = true, versionProvider = T4j.Version.class,
        description = "transformers4j: build, train and evaluate transformers on the JVM (CPU or CUDA).",
        subcommands = {TrainCommand.class, PretrainCommand.class, EvalCommand.class, PredictCommand.class, PlotCommand.class, InfoCommand.class, BenchCommand.class,
                ModelsCommand.class, SummarizeCommand.class, GenerateCommand.class, FillMaskCommand.class, ExportCommand.class, ExploreCommand.class, DataCommand.class, TokenizerCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
                "  t4j train --model vit-mini-p4 --dataset fashion-mnist --epochs 3",
                "  t4j pretrain --model mae-tiny --epochs 5 --out runs/mae && t4j train --model mae-tiny --init-from runs/mae/checkpoints/last.safetensors --freeze-encoder",
                "  t4j eval --checkpoint runs/NAME/checkpoints/best.safetensors --dataset fashion-mnist --split test",
                "  t4j predict --checkpoint runs/NAME/checkpoints/best.safetensors shirt.png photos/",
                "  t4j plot runs/A runs/B --out plots",
                "  t4j generate --hf models/gpt2 \"Once upon a time\"   and   t4j fill-mask --hf models/bert-base-uncased \"Paris is the [MASK] of France.\"",
                "  t4j data debian-descriptions --out data/debian && t4j train --model summarizer-4x512 --dataset jsonl:data/debian",
                "Run 't4j COMMAND --help' for the options of a command."})
public final class T4j implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code (0 ok, 1 failure, 2 bad usage). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new T4j());
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // one error style for every command: "t4j CMD: error: what", exit 2 for bad usage, 1 for a failure
        cl.setParameterExceptionHandler((ex, arguments) -> {
            CommandLine c = ex.getCommandLine();
            PrintWriter e = c.getErr();
            e.println(c.getCommandSpec().qualifiedName() + ": error: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, e);
            e.println("Run '" + c.getCommandSpec().qualifiedName() + " --help' for the options.");
            e.flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            boolean debug = System.getenv("T4J_DEBUG") != null;
            line.getErr().println(line.getCommandSpec().qualifiedName() + ": error: " + message(ex));
            if (debug) ex.printStackTrace(line.getErr());
            else line.getErr().println("(set T4J_DEBUG=1 for the stack trace)");
            line.getErr().flush();
            return 1;
        });
        return cl.execute(args);
    }

    /** The message of a failure, without Java exception class names. */
    static String message(Throwable ex) {
        // new UncheckedIOException(cause) says only "java.nio.file.SomeException: ...": describe the cause instead
        if (ex instanceof java.io.UncheckedIOException u && u.getCause() != null && String.valueOf(u.getMessage()).equals(u.getCause().toString()))
            ex = u.getCause();
        String m = ex.getMessage();
        return switch (ex) {
            case java.nio.file.NoSuchFileException f -> "no such file or folder: " + f.getFile()
                    + (f.getReason() != null ? " (" + f.getReason() + ")" : "");
            case java.nio.file.AccessDeniedException a -> "permission denied: " + a.getFile();
            case java.nio.file.FileAlreadyExistsException a -> "already exists: " + a.getFile();
            case java.nio.file.NotDirectoryException a -> "not a folder: " + a.getFile();
            case OutOfMemoryError o -> "out of memory (" + m + "); give the JVM more with T4J_JAVA_OPTS=-Xmx..., or use a smaller "
                    + "--batch-size or --image-size";
            default -> m != null ? m : "internal error (" + ex.getClass().getSimpleName() + ")";
        };
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Picks up {@code --threads} before any tensor code runs (the CPU thread pool is sized once). */
    static void threads(CommandLine.Model.CommandSpec spec, Integer n) {
        if (n == null) return;
        if (n < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1, got " + n);
        System.setProperty("t4j.threads", String.valueOf(n));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = T4j.class.getPackage().getImplementationVersion();
            return new String[] {"t4j " + (v == null ? "0.1.0-SNAPSHOT" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
