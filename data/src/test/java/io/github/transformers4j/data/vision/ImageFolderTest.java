package io.github.transformers4j.data.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.DatasetException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir
    Path root;

    /** A w x h RGB PNG whose pixel (x, y) is (r0 + x, g0 + y, b0). */
    static void rgbPng(Path file, int w, int h, int r0, int g0, int b0) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img.setRGB(x, y, ((r0 + x) << 16) | ((g0 + y) << 8) | b0);
        Files.createDirectories(file.getParent());
        assertThat(ImageIO.write(img, "png", file.toFile())).isTrue();
    }

    static void grayPng(Path file, int[][] values) throws IOException {
        BufferedImage img = new BufferedImage(values[0].length, values.length, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < values.length; y++)
            for (int x = 0; x < values[0].length; x++) img.getRaster().setSample(x, y, 0, values[y][x]);
        Files.createDirectories(file.getParent());
        assertThat(ImageIO.write(img, "png", file.toFile())).isTrue();
    }

    @Test
    void classesAreSortedFolderNamesAndPixelsAreExact() throws IOException {
        rgbPng(root.resolve("zebra/b.png"), 3, 2, 10, 20, 30);
        rgbPng(root.resolve("zebra/a.PNG"), 3, 2, 40, 50, 60);
        rgbPng(root.resolve("cat/nested/x.png"), 2, 2, 0, 0, 255);
        Files.writeString(root.resolve("cat/notes.txt"), "not an image, ignored by extension");
        Files.writeString(root.resolve("README"), "files in the root are ignored");
        ImageFolder ds = ImageFolder.open(root);
        assertThat(ds.classes()).containsExactly("cat", "zebra");
        assertThat(ds.size()).isEqualTo(3);
        assertThat(ds.samples()).extracting(s -> s.path().getFileName().toString()).containsExactly("x.png", "a.PNG", "b.png");
        LabeledImage s = ds.get(2); // zebra/b.png
        assertThat(s.label()).isEqualTo(1);
        Image img = s.image();
        assertThat(img.shape()).containsExactly(3, 2, 3);
        // R plane: 10 + x; G plane: 20 + y; B plane: 30
        assertThat(img.pixels()).containsExactly(10, 11, 12, 10, 11, 12, 20, 20, 20, 21, 21, 21, 30, 30, 30, 30, 30, 30);
        assertThat(ds.get(0).label()).isEqualTo(0);
    }

    @Test
    void grayImagesKeepTheirValuesAndRgbConvertsToLuma() throws IOException {
        grayPng(root.resolve("g/one.png"), new int[][] {{0, 128, 255}});
        rgbPng(root.resolve("h/two.png"), 1, 1, 200, 100, 50);
        ImageFolder rgb = ImageFolder.open(root);
        // no gamma conversion: 128 stays 128, replicated into 3 channels
        assertThat(rgb.get(0).image().pixels()).containsExactly(0, 128, 255, 0, 128, 255, 0, 128, 255);
        ImageFolder gray = ImageFolder.open(root, 1);
        assertThat(gray.get(0).image().pixels()).containsExactly(0, 128, 255);
        // PIL's L = R * 299/1000 + G * 587/1000 + B * 114/1000 = 59.8 + 58.7 + 5.7 = 124.2 -> 124
        assertThat(gray.get(1).image().pixels()).containsExactly(124);
    }

    @Test
    void jpegIsReadable() throws IOException {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) img.setRGB(x, y, 0x808080);
        Files.createDirectories(root.resolve("c"));
        assertThat(ImageIO.write(img, "jpg", root.resolve("c/p.jpg").toFile())).isTrue();
        Image read = ImageFolder.open(root).get(0).image();
        assertThat(read.shape()).containsExactly(3, 8, 8);
        for (float v : read.pixels()) assertThat(v).isBetween(126f, 130f); // lossy, but flat grey stays near 128
    }

    @Test
    void unreadableImageIsAnErrorNamingTheFile() throws IOException {
        rgbPng(root.resolve("a/good.png"), 2, 2, 0, 0, 0);
        Path bad = root.resolve("a/broken.png");
        Files.writeString(bad, "this is not a PNG");
        ImageFolder ds = ImageFolder.open(root);
        assertThat(ds.samples().get(0).path()).isEqualTo(bad);
        assertThatThrownBy(() -> ds.get(0))
                .isInstanceOf(DatasetException.class)
                .hasMessage(bad + ": not a readable image (no ImageIO decoder recognises its content)");
        assertThat(ds.get(1).image().shape()).containsExactly(3, 2, 2);
        // a PNG cut in the middle
        byte[] png = Files.readAllBytes(root.resolve("a/good.png"));
        Files.write(bad, java.util.Arrays.copyOf(png, 40));
        assertThatThrownBy(() -> ds.get(0)).isInstanceOf(DatasetException.class).hasMessageStartingWith(bad.toString());
    }

    @Test
    void emptyRootsAndClassesAreErrors() throws IOException {
        assertThatThrownBy(() -> ImageFolder.open(root)).hasMessageContaining("has no class folders");
        Files.createDirectories(root.resolve("empty"));
        assertThatThrownBy(() -> ImageFolder.open(root))
                .hasMessageContaining("class folder " + root.resolve("empty") + " has no images");
        assertThatThrownBy(() -> ImageFolder.open(root.resolve("nope"))).hasMessageContaining("is not a folder");
    }
}
