package io.github.transformers4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.recipes.ImagePredictor;
import io.github.transformers4j.recipes.VisionRecipe;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Classify images with a trained checkpoint: the top-k classes of each image with their probabilities. "
                + "Images are read, resized (shorter side), centre-cropped and normalised as the run read its data.",
        footer = {"", "Examples:",
                "  t4j predict --checkpoint runs/NAME/checkpoints/best.safetensors shirt.png",
                "  t4j predict --checkpoint runs/NAME/checkpoints/best.safetensors --top-k 3 --format csv photos/ > predictions.csv"})
final class PredictCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    enum Format { TEXT, CSV, JSON }

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "a checkpoint of 't4j train', e.g. runs/NAME/checkpoints/best.safetensors")
    Path checkpoint;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|FOLDER", description = "image files, or folders searched recursively for png, jpg, jpeg, bmp and gif files")
    List<Path> inputs;

    @Option(names = "--top-k", paramLabel = "K", description = "classes per image (default: ${DEFAULT-VALUE})")
    int topK = 3;

    @Option(names = "--format", description = "text, csv or json (default: ${DEFAULT-VALUE})")
    Format format = Format.TEXT;

    @Option(names = "--batch-size", paramLabel = "N", description = "images per forward pass (default: ${DEFAULT-VALUE})")
    int batchSize = 64;

    @Option(names = "--device", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
    String device = "cpu";

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws IOException {
        threads.apply();
        if (topK < 1) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--top-k must be >= 1, got " + topK);
        if (batchSize < 1) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--batch-size must be >= 1, got " + batchSize);
        List<Path> files = ImagePredictor.imageFiles(inputs);
        if (files.isEmpty()) throw new IllegalArgumentException("no image files in " + inputs + " (extensions: png, jpg, jpeg, bmp, gif)");
        var dev = VisionRecipe.device(device);
        List<ImagePredictor.Prediction> predictions = new ImagePredictor(VisionRecipe.load(checkpoint, dev), dev).predict(files, topK, batchSize);
        PrintStream out = System.out;
        out.print(switch (format) {
            case TEXT -> text(predictions);
            case CSV -> csv(predictions);
            case JSON -> json(predictions);
        });
        out.flush();
        long failed = predictions.stream().filter(p -> p.error() != null).count();
        if (failed > 0) {
            for (var p : predictions) if (p.error() != null) System.err.println("t4j predict: cannot classify " + p.error());
            throw new IllegalArgumentException(failed + " of " + predictions.size() + " files could not be read as images");
        }
        return 0;
    }

    static String text(List<ImagePredictor.Prediction> predictions) {
        StringBuilder sb = new StringBuilder();
        for (var p : predictions) {
            sb.append(p.file());
            if (p.error() != null) sb.append("  error: ").append(p.error());
            for (var s : p.top()) sb.append(String.format(Locale.ROOT, "  %s %.1f%%", s.label(), 100 * s.probability()));
            sb.append('\n');
        }
        return sb.toString();
    }

    /** One row per file and rank: file, rank, label, class_index, probability, error. */
    static String csv(List<ImagePredictor.Prediction> predictions) throws IOException {
        StringWriter w = new StringWriter();
        try (CSVPrinter csv = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setRecordSeparator('\n')
                .setHeader("file", "rank", "label", "class_index", "probability", "error").get())) {
            for (var p : predictions) {
                if (p.error() != null) csv.printRecord(p.file(), "", "", "", "", p.error());
                for (int r = 0; r < p.top().size(); r++) {
                    var s = p.top().get(r);
                    csv.printRecord(p.file(), r + 1, s.label(), s.index(), String.format(Locale.ROOT, "%.6f", s.probability()), "");
                }
            }
        }
        return w.toString();
    }

    static String json(List<ImagePredictor.Prediction> predictions) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode a = json.createArrayNode();
        for (var p : predictions) {
            ObjectNode n = a.addObject().put("file", p.file().toString());
            if (p.error() != null) n.put("error", p.error());
            ArrayNode top = n.putArray("predictions");
            for (var s : p.top()) top.addObject().put("label", s.label()).put("class_index", s.index()).put("probability", s.probability());
        }
        return json.writeValueAsString(a) + "\n";
    }
}
