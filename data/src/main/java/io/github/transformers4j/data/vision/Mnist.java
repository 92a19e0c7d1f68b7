package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.DatasetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * MNIST and Fashion-MNIST from their IDX files ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each raw or {@code .gz}) in one folder.
 * Images are 1x28x28 (any size the files declare is accepted), labels 0..9.
 */
public final class Mnist {
    private Mnist() {}

    public enum Variant {
        MNIST("mnist", List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")),
        FASHION_MNIST("fashion-mnist", List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                "Shirt", "Sneaker", "Bag", "Ankle boot"));

        private final String id;
        private final List<String> classes;

        Variant(String id, List<String> classes) {
            this.id = id;
            this.classes = classes;
        }

        /** The dataset name used on the command line and as cache folder, e.g. {@code fashion-mnist}. */
        public String id() {
            return id;
        }

        public List<String> classes() {
            return classes;
        }
    }

    /** The four file names (without {@code .gz}). */
    public static final List<String> FILES = List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    public static InMemoryImageDataset fashion(Path dir, boolean train) {
        return load(dir, Variant.FASHION_MNIST, train);
    }

    public static InMemoryImageDataset mnist(Path dir, boolean train) {
        return load(dir, Variant.MNIST, train);
    }

    public static InMemoryImageDataset load(Path dir, Variant variant, boolean train) {
        String prefix = train ? "train" : "t10k";
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte", variant);
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte", variant);
        Idx.Array images = Idx.read(imagesFile, 3, "image");
        Idx.Array labels = Idx.read(labelsFile, 1, "label");
        if (images.count() != labels.count())
            throw new DatasetException(imagesFile.getFileName() + " has " + images.count() + " images but "
                    + labelsFile.getFileName() + " has " + labels.count() + " labels");
        int numClasses = variant.classes().size();
        int[] y = new int[labels.count()];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.data()[i] & 0xFF;
            if (y[i] >= numClasses)
                throw new DatasetException(labelsFile.getFileName() + ": label " + y[i] + " at index " + i
                        + " is outside 0.." + (numClasses - 1));
        }
        String name = variant.id() + (train ? " train" : " test");
        return new InMemoryImageDataset(name, images.data(), y, 1, images.dims()[1], images.dims()[2],
                variant.classes());
    }

    /** True if {@code dir} holds all four files (raw or gzip). */
    public static boolean isPresent(Path dir) {
        for (String f : FILES)
            if (!Files.isRegularFile(dir.resolve(f)) && !Files.isRegularFile(dir.resolve(f + ".gz"))) return false;
        return true;
    }

    private static Path find(Path dir, String base, Variant variant) {
        Path raw = dir.resolve(base);
        if (Files.isRegularFile(raw)) return raw;
        Path gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(gz)) return gz;
        throw new DatasetException(variant.id() + ": neither " + base + " nor " + base + ".gz found in " + dir);
    }
}
