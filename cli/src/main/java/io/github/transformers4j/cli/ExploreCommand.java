package io.github.transformers4j.cli;

import io.github.transformers4j.cli.explore.ExplorerServer;
import io.github.transformers4j.train.TrainingLoop;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "explore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Look at what a model attends to, in the browser: a page served on 127.0.0.1 (from the jar, nothing from the "
                + "network) with the head view (lines from each token to what it attends to, per layer and head), the model view "
                + "(every layer and head), heat maps, per-head statistics, and for Vision Transformers the attention over the image "
                + "patches and attention rollout. Type text or drop an image in the page; the model runs on it. Each view can show "
                + "the same architecture freshly initialised, to compare with the trained weights.",
                "Models: Hugging Face BERT, GPT-2 and ViT folders (--hf); image classifiers and summarizers trained with t4j train, "
                        + "masked autoencoders of t4j pretrain (--checkpoint). "
                        + "Stop with Ctrl-C."},
        footer = {"", "Examples:", "  t4j explore --hf models/bert-base-uncased",
                "  t4j explore --checkpoint runs/vit-mini-p4-20261206-120000/checkpoints/best.safetensors",
                "  t4j explore --run runs/vit-mini-p4-20261206-120000"})
final class ExploreCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--hf", paramLabel = "DIR", description = "a Hugging Face model folder (BERT, GPT-2 or ViT)")
    Path hf;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "a checkpoint of 't4j train' (image classifiers: the zoo's ViTs, "
            + "fine-tuned Hugging Face ViTs; summarizers) or of 't4j pretrain' (masked autoencoders)")
    Path checkpoint;

    @Option(names = "--run", paramLabel = "DIR", description = "a run folder of 't4j train': its training curves (refreshed while it "
            + "trains) and, without --checkpoint, its best (else last) checkpoint")
    Path run;

    @Option(names = "--port", paramLabel = "N", description = "the port (default: a free one)")
    int port = 0;

    @Option(names = "--host", paramLabel = "ADDRESS", description = "the address to bind (default: ${DEFAULT-VALUE}; another opens the "
            + "page to other machines: only on purpose)")
    String host = "127.0.0.1";

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        if (port < 0 || port > 65535) throw new CommandLine.ParameterException(spec.commandLine(), "--port must be in 0..65535, got " + port);
        if (run != null && hf == null && checkpoint == null) {
            checkpoint = run.resolve(TrainingLoop.BEST);
            if (!java.nio.file.Files.isRegularFile(checkpoint)) checkpoint = run.resolve(TrainingLoop.LAST);
            if (!java.nio.file.Files.isRegularFile(checkpoint))
                throw new IllegalArgumentException(run + ": no checkpoint yet (checkpoints/best.safetensors or last.safetensors); give --hf or --checkpoint too");
        }
        if ((hf == null) == (checkpoint == null))
            throw new CommandLine.ParameterException(spec.commandLine(), "give one model: --hf DIR, --checkpoint FILE or --run DIR");
        ExplorerServer server;
        try {
            server = hf != null ? new ExplorerServer(hf, host, port) : ExplorerServer.forCheckpoint(checkpoint, host, port);
        } catch (java.net.BindException e) {
            throw new IllegalArgumentException(host + ":" + port + " cannot be used (" + e.getMessage() + "); give another --port, or none for a free one");
        }
        if (run != null) server.withRun(run);
        server.start();
        System.out.println("t4j explore: " + server.uri() + "  (Ctrl-C stops it)");
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
