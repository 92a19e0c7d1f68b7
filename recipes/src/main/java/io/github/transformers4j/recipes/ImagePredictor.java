package io.github.transformers4j.recipes;

import io.github.transformers4j.data.DatasetException;
import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.ImageFolder;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Classifies image files with a trained checkpoint ({@code t4j predict}): each image is read as the run read its data
 * (channels, transparent pixels on the run's background), resized (shorter side) and centre-cropped to the run's image
 * size, normalised with the run's statistics, and the model's softmax gives the top-k classes.
 */
public final class ImagePredictor {
    /** One class of a prediction. */
    public record Scored(int index, String label, double probability) {}

    /** The top classes of one file, most probable first; or why the file could not be classified (then {@code top} is empty). */
    public record Prediction(Path file, List<Scored> top, String error) {}

    private final VisionRecipe.Loaded run;
    private final Device device;
    private final Transform<Image, Image> transform;
    private final ImageFolder.Background background;

    public ImagePredictor(VisionRecipe.Loaded run, Device device) {
        this.run = run;
        this.device = device;
        this.transform = VisionRecipe.evalTransform(run.spec());
        this.background = ImageFolder.Background.parse(run.config().background());
    }

    /**
     * The image files among {@code inputs}: a file as given, a folder by its image files (recursively, sorted by path,
     * by the extensions ImageFolder knows). A path that does not exist is an error naming it.
     */
    public static List<Path> imageFiles(List<Path> inputs) {
        List<Path> files = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    files.addAll(s.filter(Files::isRegularFile).filter(ImageFolder::isImageFile).sorted().toList());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot list " + p + ": " + e.getMessage(), e);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                throw new IllegalArgumentException(p + ": no such file or folder");
            }
        }
        return files;
    }

    /** Predicts the top {@code k} classes of every file, {@code batchSize} images per forward pass. */
    public List<Prediction> predict(List<Path> files, int k, int batchSize) {
        if (k < 1) throw new IllegalArgumentException("--top-k must be >= 1, got " + k);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        List<Prediction> out = new ArrayList<>(files.size());
        for (int start = 0; start < files.size(); start += batchSize) {
            out.addAll(batch(files.subList(start, Math.min(files.size(), start + batchSize)), Math.min(k, run.spec().classes().size())));
        }
        return out;
    }

    private List<Prediction> batch(List<Path> files, int k) {
        int c = run.spec().channels(), s = run.spec().imageSize(), n = c * s * s;
        Prediction[] result = new Prediction[files.size()];
        List<Integer> ok = new ArrayList<>();
        float[] pixels = new float[files.size() * n];
        for (int i = 0; i < files.size(); i++) {
            try {
                Image img = transform.apply(ImageFolder.read(files.get(i), c, background), new SampleRng(0));
                System.arraycopy(img.pixels(), 0, pixels, ok.size() * n, n);
                ok.add(i);
            } catch (DatasetException e) {
                result[i] = new Prediction(files.get(i), List.of(), e.getMessage());
            }
        }
        if (!ok.isEmpty()) {
            float[] probs;
            boolean wasTraining = run.model().isTraining();
            run.model().eval();
            try (var g = Grad.disabled(); var scope = Memory.scope()) {
                Tensor x = Tensor.of(Arrays.copyOf(pixels, ok.size() * n), ok.size(), c, s, s).to(device);
                probs = run.model().forward(x).softmax(1).toFloatArray();
            } finally {
                run.model().train(wasTraining);
            }
            int classes = run.spec().classes().size();
            for (int j = 0; j < ok.size(); j++) {
                int row = j;
                List<Scored> top = java.util.stream.IntStream.range(0, classes).boxed()
                        .sorted(Comparator.comparingDouble((Integer i) -> -probs[row * classes + i]).thenComparing(i -> i))
                        .limit(k).map(i -> new Scored(i, run.spec().classes().get(i), probs[row * classes + i])).toList();
                result[ok.get(j)] = new Prediction(files.get(ok.get(j)), top, null);
            }
        }
        return List.of(result);
    }
}
