package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.DataLocator;
import io.github.transformers4j.data.DatasetException;
import io.github.transformers4j.data.DatasetSource;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Image-classification datasets by name, for the command line:
 * {@code fashion-mnist}, {@code mnist}, {@code cifar10}, {@code cifar100} (fine labels), {@code cifar100-coarse},
 * and {@code imagefolder:PATH}. {@code PATH} with a {@code train/} sub-folder has the splits {@code train/}, and
 * {@code test/} and {@code val/} where present (docs/DATASETS.md); otherwise {@code PATH} is the training split.
 */
public final class VisionDatasets {
    private VisionDatasets() {}

    public static final DatasetSource FASHION_MNIST = new DatasetSource("fashion-mnist",
            List.of("FashionMNIST/raw", "fashion_mnist"), List.of(Path.of("/usr/share/datasets/fashion-mnist")),
            mnistFiles(),
            new DatasetSource.Remote(URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"), Map.of(
                    "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
                    "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
                    "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")),
            "apt-get install dataset-fashion-mnist (Debian/Ubuntu: installs /usr/share/datasets/fashion-mnist)");

    public static final DatasetSource MNIST = new DatasetSource("mnist", List.of("MNIST/raw"), List.of(),
            mnistFiles(),
            new DatasetSource.Remote(URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"), Map.of(
                    "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
                    "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
                    "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")),
            "download the four MNIST IDX files (torchvision's mirror https://ossci-datasets.s3.amazonaws.com/mnist/)");

    public static final DatasetSource CIFAR10 = new DatasetSource("cifar10",
            List.of("cifar-10-batches-bin", "cifar10/cifar-10-batches-bin"), List.of(),
            List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                    "data_batch_5.bin", "test_batch.bin"),
            null,
            "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and unpack it (tar xzf) in the data folder");

    public static final DatasetSource CIFAR100 = new DatasetSource("cifar100",
            List.of("cifar-100-binary", "cifar100/cifar-100-binary"), List.of(),
            List.of("train.bin", "test.bin"),
            null,
            "download https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz and unpack it (tar xzf) in the data folder");

    /** The names {@link #open} accepts ({@code imagefolder:PATH} besides). */
    public static final List<String> NAMES = List.of("fashion-mnist", "mnist", "cifar10", "cifar100", "cifar100-coarse");

    private static List<String> mnistFiles() {
        return Mnist.FILES.stream().map(f -> f + "[.gz]").toList();
    }

    /** The source behind a dataset name, or null for {@code imagefolder:} and unknown names. */
    public static DatasetSource source(String name) {
        return switch (name) {
            case "fashion-mnist" -> FASHION_MNIST;
            case "mnist" -> MNIST;
            case "cifar10" -> CIFAR10;
            case "cifar100", "cifar100-coarse" -> CIFAR100;
            default -> null;
        };
    }

    /** A split of a data set. Only {@code imagefolder:} data sets have their own validation split (a {@code val/} folder). */
    public enum Split { TRAIN, VAL, TEST }

    /** Opens the training ({@code train = true}) or test split of a dataset by name. */
    public static ImageClassificationDataset open(String name, boolean train, DataLocator locator) {
        ImageClassificationDataset ds = open(name, train ? Split.TRAIN : Split.TEST, locator, ImageFolder.Options.defaults());
        if (ds == null) {
            throw new DatasetException(name + " has no test split (expected train/ and test/ sub-folders in "
                    + name.substring("imagefolder:".length()) + "); split the training set with Datasets.randomSplit");
        }
        return ds;
    }

    /**
     * Opens a split of a dataset by name, or returns null when the data set has no such split. {@code imagefolder:PATH}
     * is either one folder of class folders (the training split), or {@code PATH/train/} with {@code PATH/test/} and
     * {@code PATH/val/} when present; the classes are the union of the splits' class folders (a class may be missing
     * from a split). {@code options} apply to image folders only.
     */
    public static ImageClassificationDataset open(String name, Split split, DataLocator locator, ImageFolder.Options options) {
        if (name.startsWith("imagefolder:")) return imageFolder(Path.of(name.substring("imagefolder:".length())), split, options);
        DatasetSource source = source(name);
        if (source == null)
            throw new DatasetException("unknown dataset '" + name + "'; known: " + String.join(", ", NAMES)
                    + ", imagefolder:PATH");
        if (split == Split.VAL) return null;
        boolean train = split == Split.TRAIN;
        Path dir = locator.locate(source);
        return switch (name) {
            case "fashion-mnist" -> Mnist.fashion(dir, train);
            case "mnist" -> Mnist.mnist(dir, train);
            case "cifar10" -> Cifar.cifar10(dir, train);
            case "cifar100" -> Cifar.cifar100(dir, train, Cifar.Labels.FINE);
            case "cifar100-coarse" -> Cifar.cifar100(dir, train, Cifar.Labels.COARSE);
            default -> throw new AssertionError(name);
        };
    }

    /** Whether {@link #open} can give a test split for this name without opening anything. */
    public static boolean hasTestSplit(String name) {
        return hasSplit(name, Split.TEST);
    }

    /** Whether the data set has this split (without opening anything). */
    public static boolean hasSplit(String name, Split split) {
        if (!name.startsWith("imagefolder:")) return split != Split.VAL;
        Path root = Path.of(name.substring("imagefolder:".length()));
        if (split == Split.TRAIN) return Files.isDirectory(root);
        return Files.isDirectory(root.resolve("train")) && Files.isDirectory(root.resolve(split.name().toLowerCase(java.util.Locale.ROOT)));
    }

    private static ImageFolder imageFolder(Path root, Split split, ImageFolder.Options options) {
        if (!Files.isDirectory(root)) throw new DatasetException("imagefolder:" + root + ": no such folder");
        Path trainDir = root.resolve("train");
        if (!Files.isDirectory(trainDir)) {
            if (split == Split.TRAIN) return ImageFolder.open(root, null, options);
            return null;
        }
        Path dir = root.resolve(split.name().toLowerCase(java.util.Locale.ROOT));
        if (!Files.isDirectory(dir)) return null;
        // classes: the union over the splits, so that labels agree whichever split lacks a class
        java.util.TreeSet<String> classes = new java.util.TreeSet<>();
        for (String s : List.of("train", "val", "test")) {
            if (Files.isDirectory(root.resolve(s))) classes.addAll(ImageFolder.classFolders(root.resolve(s)));
        }
        if (classes.isEmpty())
            throw new DatasetException("imagefolder:" + root + ": train/ has no class folders (expected " + trainDir + "/<class>/<image>)");
        return ImageFolder.open(dir, List.copyOf(classes), options);
    }
}
