package io.github.transformers4j.data.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.github.transformers4j.data.DataLocator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reads the Debian package's real Fashion-MNIST files when they are installed. */
class RealFashionMnistTest {
    static final Path DEBIAN = Path.of("/usr/share/datasets/fashion-mnist");

    @Test
    void debianFilesHaveTheOfficialSizesAndBalancedLabels() {
        assumeThat(Files.isRegularFile(DEBIAN.resolve("train-images-idx3-ubyte.gz")))
                .as("dataset-fashion-mnist installed").isTrue();
        InMemoryImageDataset train = Mnist.fashion(DEBIAN, true);
        InMemoryImageDataset test = Mnist.fashion(DEBIAN, false);
        assertThat(train.size()).isEqualTo(60000);
        assertThat(test.size()).isEqualTo(10000);
        assertThat(train.imageShape()).containsExactly(1, 28, 28);
        // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
        int[] counts = new int[10];
        for (int y : train.labels()) counts[y]++;
        assertThat(counts).containsOnly(6000);
        counts = new int[10];
        for (int y : test.labels()) counts[y]++;
        assertThat(counts).containsOnly(1000);
        // Published training-set statistics: mean 0.2860, std 0.3530 (of pixels scaled to 0..1).
        float[][] ms = train.channelMeanStd();
        assertThat(ms[0][0]).isCloseTo(0.2860f, org.assertj.core.data.Offset.offset(0.0005f));
        assertThat(ms[1][0]).isCloseTo(0.3530f, org.assertj.core.data.Offset.offset(0.0005f));
    }

    @Test
    void locatorFindsTheDebianFolderWithoutDownloading(@org.junit.jupiter.api.io.TempDir Path empty) {
        assumeThat(Files.isDirectory(DEBIAN)).as("dataset-fashion-mnist installed").isTrue();
        DataLocator locator = new DataLocator(null, empty.resolve("data"), empty.resolve("cache"), false, false);
        assertThat(locator.locate(VisionDatasets.FASHION_MNIST)).isEqualTo(DEBIAN);
        ImageClassificationDataset test = VisionDatasets.open("fashion-mnist", false, locator);
        assertThat(test.size()).isEqualTo(10000);
        assertThat(test.description()).isEqualTo("fashion-mnist test (10000 images 1x28x28, 10 classes)");
    }
}
