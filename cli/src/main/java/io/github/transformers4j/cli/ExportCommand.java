package io.github.transformers4j.cli;

import io.github.transformers4j.models.hf.HfImageClassifier;
import io.github.transformers4j.models.hf.HfTextClassifier;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.recipes.VisionRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a fine-tuned Hugging Face model (a run of 't4j train --init-from hf:DIR': ViT image or BERT text "
                + "classification) as a save_pretrained folder: config.json with the data set's class names, model.safetensors, and the "
                + "source folder's tokenizer or image processor, so transformers loads it (AutoModelFor...Classification.from_pretrained(OUT))."},
        footer = {"", "Example:", "  t4j export --checkpoint runs/hf-vit/checkpoints/best.safetensors --hf-out models/vit-fashion"})
final class ExportCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "a checkpoint of the run")
    Path checkpoint;

    @Option(names = "--hf-out", required = true, paramLabel = "DIR", description = "the folder to write (created if missing)")
    Path hfOut;

    @Option(names = "--overwrite", description = "replace the model of a folder that already holds one")
    boolean overwrite;

    @Override
    public Integer call() {
        VisionRecipe.Loaded loaded = VisionRecipe.load(checkpoint, Device.CPU);
        if (Files.isRegularFile(hfOut)) throw new IllegalArgumentException(hfOut + " is a file; give a folder");
        if (!overwrite && (Files.exists(hfOut.resolve("config.json")) || Files.exists(hfOut.resolve("model.safetensors"))))
            throw new IllegalArgumentException(hfOut + " already holds a model (config.json, model.safetensors); --overwrite replaces it");
        String kind = switch (loaded.model()) {
            case HfImageClassifier hf -> {
                hf.savePretrained(hfOut, loaded.spec().classes());
                yield "ViTForImageClassification";
            }
            case HfTextClassifier hf -> {
                hf.savePretrained(hfOut, loaded.spec().classes());
                yield "BertForSequenceClassification";
            }
            default -> throw new IllegalArgumentException(checkpoint + " is a checkpoint of " + loaded.config().model() + ", which has no "
                    + "Hugging Face layout; export writes runs of 't4j train --init-from hf:DIR'");
        };
        System.out.println("wrote " + hfOut + " (" + kind + ", " + loaded.spec().classes().size() + " classes, epoch " + loaded.epoch() + ")");
        return 0;
    }
}
