package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.DatasetException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10 and CIFAR-100 in their official binary formats (the {@code -binary.tar.gz} archives, unpacked).
 * A record is the label byte(s) followed by 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, each 32x32
 * row-major, which is already CHW.
 * <ul>
 *   <li>CIFAR-10: {@code data_batch_1.bin .. data_batch_5.bin}, {@code test_batch.bin}; records of 1 + 3072
 *       bytes; class names from {@code batches.meta.txt} when present.</li>
 *   <li>CIFAR-100: {@code train.bin}, {@code test.bin}; records of 2 + 3072 bytes (coarse label, fine label);
 *       class names from {@code fine_label_names.txt} / {@code coarse_label_names.txt} when present.</li>
 * </ul>
 */
public final class Cifar {
    private Cifar() {}

    public static final int PIXELS = 3 * 32 * 32;

    /** Which CIFAR-100 label to use: the 100 fine classes or the 20 superclasses. */
    public enum Labels { FINE, COARSE }

    public static final List<String> CIFAR10_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck");

    public static final List<String> CIFAR100_FINE_CLASSES = List.of("apple", "aquarium_fish", "baby", "bear",
            "beaver", "bed", "bee", "beetle", "bicycle", "bottle", "bowl", "boy", "bridge", "bus", "butterfly",
            "camel", "can", "castle", "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach",
            "couch", "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
            "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard",
            "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange",
            "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy",
            "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark",
            "shrew", "skunk", "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower",
            "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor", "train", "trout",
            "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm");

    public static final List<String> CIFAR100_COARSE_CLASSES = List.of("aquatic_mammals", "fish", "flowers",
            "food_containers", "fruit_and_vegetables", "household_electrical_devices", "household_furniture",
            "insects", "large_carnivores", "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
            "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people", "reptiles",
            "small_mammals", "trees", "vehicles_1", "vehicles_2");

    public static List<String> cifar10Files(boolean train) {
        return train ? List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                "data_batch_5.bin") : List.of("test_batch.bin");
    }

    public static List<String> cifar100Files(boolean train) {
        return List.of(train ? "train.bin" : "test.bin");
    }

    public static InMemoryImageDataset cifar10(Path dir, boolean train) {
        List<String> classes = classNames(dir.resolve("batches.meta.txt"), CIFAR10_CLASSES);
        return load(dir, cifar10Files(train), 1, 0, classes, "cifar10" + (train ? " train" : " test"));
    }

    public static InMemoryImageDataset cifar100(Path dir, boolean train, Labels labels) {
        boolean fine = labels == Labels.FINE;
        List<String> classes = fine
                ? classNames(dir.resolve("fine_label_names.txt"), CIFAR100_FINE_CLASSES)
                : classNames(dir.resolve("coarse_label_names.txt"), CIFAR100_COARSE_CLASSES);
        String name = "cifar100" + (fine ? "" : "-coarse") + (train ? " train" : " test");
        return load(dir, cifar100Files(train), 2, fine ? 1 : 0, classes, name);
    }

    /** Class names, one a line (blank lines ignored), or {@code builtIn} when the file does not exist. */
    static List<String> classNames(Path file, List<String> builtIn) {
        if (!Files.isRegularFile(file)) return builtIn;
        List<String> names = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8))
                if (!line.isBlank()) names.add(line.strip());
        } catch (IOException e) {
            throw new DatasetException(file.getFileName() + ": cannot read class names (" + e + ")", e);
        }
        if (names.size() != builtIn.size())
            throw new DatasetException(file.getFileName() + ": " + names.size() + " class names, expected "
                    + builtIn.size());
        return names;
    }

    private static InMemoryImageDataset load(Path dir, List<String> files, int labelBytes, int labelOffset,
                                             List<String> classes, String name) {
        List<String> missing = files.stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).toList();
        if (!missing.isEmpty())
            throw new DatasetException(name + ": missing " + String.join(", ", missing) + " in " + dir);
        int record = labelBytes + PIXELS;
        List<byte[]> contents = new ArrayList<>();
        long records = 0;
        for (String f : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(dir.resolve(f));
            } catch (IOException e) {
                throw new DatasetException(f + ": cannot read (" + e + ")", e);
            }
            if (bytes.length == 0) throw new DatasetException(f + ": empty file, expected " + record + "-byte records");
            if (bytes.length % record != 0)
                throw new DatasetException(f + ": " + bytes.length + " bytes is not a whole number of " + record
                        + "-byte records (" + bytes.length / record + " records, then " + bytes.length % record
                        + " bytes; truncated or not a CIFAR binary file)");
            contents.add(bytes);
            records += bytes.length / record;
        }
        if (records * PIXELS > Integer.MAX_VALUE)
            throw new DatasetException(name + ": " + records + " images do not fit one array");
        byte[] pixels = new byte[(int) (records * PIXELS)];
        int[] labels = new int[(int) records];
        int n = 0;
        for (int k = 0; k < files.size(); k++) {
            byte[] bytes = contents.get(k);
            for (int r = 0; r < bytes.length / record; r++, n++) {
                int label = bytes[r * record + labelOffset] & 0xFF;
                if (label >= classes.size())
                    throw new DatasetException(files.get(k) + ": record " + r + " has label " + label
                            + ", expected 0.." + (classes.size() - 1) + " (not a " + name.split(" ")[0]
                            + " file, or corrupt)");
                labels[n] = label;
                System.arraycopy(bytes, r * record + labelBytes, pixels, n * PIXELS, PIXELS);
            }
        }
        return new InMemoryImageDataset(name, pixels, labels, 3, 32, 32, classes);
    }

    public static boolean isCifar10(Path dir) {
        return Files.isRegularFile(dir.resolve("test_batch.bin")) && Files.isRegularFile(dir.resolve("data_batch_1.bin"));
    }

    public static boolean isCifar100(Path dir) {
        return Files.isRegularFile(dir.resolve("train.bin")) && Files.isRegularFile(dir.resolve("test.bin"));
    }
}
