package io.github.transformers4j.data.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.DataLocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VisionDatasetsTest {
    @TempDir
    Path data;

    DataLocator locator() {
        return new DataLocator(data, data.resolve("unused-work"), data.resolve("unused-cache"), false, false);
    }

    @Test
    void opensEachDatasetByNameFromItsFolderInTheDataDir() throws IOException {
        Path fm = Files.createDirectories(data.resolve("fashion-mnist"));
        IdxTest.writeTinyMnist(fm, "train", true);
        IdxTest.writeTinyMnist(fm, "t10k", true);
        Path mn = Files.createDirectories(data.resolve("MNIST/raw")); // torchvision's layout
        IdxTest.writeTinyMnist(mn, "train", false);
        IdxTest.writeTinyMnist(mn, "t10k", false);
        Path c10 = Files.createDirectories(data.resolve("cifar-10-batches-bin")); // the official archive's folder
        CifarTest.writeCifar10(c10);
        Path c100 = Files.createDirectories(data.resolve("cifar100"));
        CifarTest.writeCifar100(c100);

        var fashion = VisionDatasets.open("fashion-mnist", true, locator());
        assertThat(fashion.size()).isEqualTo(3);
        assertThat(fashion.classes().getFirst()).isEqualTo("T-shirt/top");
        assertThat(VisionDatasets.open("mnist", false, locator()).classes().getFirst()).isEqualTo("0");
        assertThat(VisionDatasets.open("cifar10", true, locator()).size()).isEqualTo(10);
        assertThat(VisionDatasets.open("cifar10", false, locator()).description())
                .isEqualTo("cifar10 test (3 images 3x32x32, 10 classes)");
        var fine = VisionDatasets.open("cifar100", true, locator());
        var coarse = VisionDatasets.open("cifar100-coarse", true, locator());
        assertThat(fine.numClasses()).isEqualTo(100);
        assertThat(coarse.numClasses()).isEqualTo(20);
        assertThat(fine.get(0).label()).isEqualTo(99);
        assertThat(coarse.get(0).label()).isEqualTo(19);
    }

    @Test
    void dataDirMayHoldTheFilesDirectly() throws IOException {
        IdxTest.writeTinyMnist(data, "train", true);
        IdxTest.writeTinyMnist(data, "t10k", true);
        assertThat(VisionDatasets.open("fashion-mnist", false, locator()).size()).isEqualTo(3);
    }

    @Test
    void missingDatasetWithoutDownloadSaysWhereItLookedAndWhatToDo() {
        assertThatThrownBy(() -> VisionDatasets.open("cifar10", true, locator()))
                .hasMessageStartingWith("cifar10 not found. Looked in:\n  " + data.toAbsolutePath() + " (lacks data_batch_1.bin")
                .hasMessageContaining("cifar-10-binary.tar.gz");
        assertThatThrownBy(() -> VisionDatasets.open("fashion-mnist", true, locator()))
                .hasMessageContaining("apt-get install dataset-fashion-mnist")
                .hasMessageContaining("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");
        assertThatThrownBy(() -> VisionDatasets.open("imagenet", true, locator()))
                .hasMessage("unknown dataset 'imagenet'; known: fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse, imagefolder:PATH");
    }

    @Test
    void imageFolderSplits() throws IOException {
        Path flat = data.resolve("flat");
        ImageFolderTest.rgbPng(flat.resolve("a/1.png"), 2, 2, 0, 0, 0);
        assertThat(VisionDatasets.open("imagefolder:" + flat, true, locator()).size()).isEqualTo(1);
        assertThat(VisionDatasets.hasTestSplit("imagefolder:" + flat)).isFalse();
        assertThatThrownBy(() -> VisionDatasets.open("imagefolder:" + flat, false, locator()))
                .hasMessageContaining("has no test split");

        Path split = data.resolve("split");
        ImageFolderTest.rgbPng(split.resolve("train/a/1.png"), 2, 2, 0, 0, 0);
        ImageFolderTest.rgbPng(split.resolve("train/b/1.png"), 2, 2, 0, 0, 0);
        ImageFolderTest.rgbPng(split.resolve("val/a/1.png"), 2, 2, 0, 0, 0);
        ImageFolderTest.rgbPng(split.resolve("val/b/1.png"), 2, 2, 0, 0, 0);
        ImageFolderTest.rgbPng(split.resolve("val/b/2.png"), 2, 2, 0, 0, 0);
        // val/ is the validation split, not the test split
        assertThat(VisionDatasets.hasTestSplit("imagefolder:" + split)).isFalse();
        assertThat(VisionDatasets.open("imagefolder:" + split, true, locator()).size()).isEqualTo(2);
        assertThatThrownBy(() -> VisionDatasets.open("imagefolder:" + split, false, locator())).hasMessageContaining("has no test split");
        var val = VisionDatasets.open("imagefolder:" + split, VisionDatasets.Split.VAL, locator(), ImageFolder.Options.defaults());
        assertThat(val.size()).isEqualTo(3);
        assertThat(val.classes()).containsExactly("a", "b");
        ImageFolderTest.rgbPng(split.resolve("test/b/1.png"), 2, 2, 0, 0, 0);
        assertThat(VisionDatasets.hasTestSplit("imagefolder:" + split)).isTrue();
        var test = VisionDatasets.open("imagefolder:" + split, false, locator());
        assertThat(test.size()).isEqualTo(1);
        assertThat(test.classes()).containsExactly("a", "b");
        assertThat(test.get(0).label()).isEqualTo(1);

        // classes are the union of the splits: a class only in val/ gets its label everywhere (train has no images of it)
        ImageFolderTest.rgbPng(split.resolve("val/c/1.png"), 2, 2, 0, 0, 0);
        var train = VisionDatasets.open("imagefolder:" + split, VisionDatasets.Split.TRAIN, locator(), ImageFolder.Options.defaults());
        assertThat(train.classes()).containsExactly("a", "b", "c");
        assertThat(((ImageFolder) train).notes()).anyMatch(n -> n.contains("no images for class c"));
        assertThat(VisionDatasets.open("imagefolder:" + split, VisionDatasets.Split.VAL, locator(), ImageFolder.Options.defaults()).size())
                .isEqualTo(4);
        assertThat(VisionDatasets.open("imagefolder:" + split, false, locator()).get(0).label()).isEqualTo(1);
        assertThat(VisionDatasets.hasSplit("imagefolder:" + split, VisionDatasets.Split.VAL)).isTrue();
        assertThat(VisionDatasets.hasSplit("fashion-mnist", VisionDatasets.Split.VAL)).isFalse();
    }
}
