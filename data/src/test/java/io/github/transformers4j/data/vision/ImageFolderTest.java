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
    void unreadableFilesAreFoundUpFrontAndNamedOrSkipped() throws IOException {
        rgbPng(root.resolve("a/good.png"), 2, 2, 0, 0, 0);
        Path bad = root.resolve("a/broken.png"), empty = root.resolve("b/empty.png");
        Files.writeString(bad, "this is not a PNG");
        Files.createDirectories(empty.getParent());
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> ImageFolder.open(root))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("2 of 3 files in " + root + " cannot be read as images")
                .hasMessageContaining(bad + ": not an image format ImageIO can decode (17 bytes)")
                .hasMessageContaining(empty + ": empty file (0 bytes)")
                .hasMessageContaining("--skip-bad-images");
        ImageFolder skipped = ImageFolder.open(root, null, new ImageFolder.Options(3, ImageFolder.Background.WHITE, true));
        assertThat(skipped.size()).isEqualTo(1);
        assertThat(skipped.classes()).containsExactly("a", "b");
        assertThat(String.join("\n", skipped.notes())).contains("skipping 2 unreadable files", bad.toString(), empty.toString(),
                "no images for class b");

        // a file that breaks after the scan (cut in the middle): the decode error names it
        byte[] png = Files.readAllBytes(root.resolve("a/good.png"));
        Files.write(root.resolve("a/good.png"), java.util.Arrays.copyOf(png, 40));
        assertThatThrownBy(() -> skipped.get(0)).isInstanceOf(DatasetException.class)
                .hasMessageStartingWith(root.resolve("a/good.png").toString());
    }

    @Test
    void alphaIsCompositedOnTheBackground() throws IOException {
        // black glyph pixels (opaque), transparent black elsewhere, one half-transparent red pixel
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, 0xFF000000);
        img.setRGB(1, 0, 0x00000000);
        img.setRGB(2, 0, 0x80FF0000);
        Files.createDirectories(root.resolve("c"));
        ImageIO.write(img, "png", root.resolve("c/icon.png").toFile());
        ImageFolder ds = ImageFolder.open(root);
        assertThat(ds.notes()).anyMatch(n -> n.contains("1 of 1 images have an alpha channel: composited on white"));
        // on white: glyph 0, transparent 255, red at alpha 128/255: 255 (R), 127 (G and B: 255 * 127/255)
        assertThat(ds.get(0).image().pixels()).containsExactly(0, 255, 255, 0, 255, 127, 0, 255, 127);
        Image black = ImageFolder.read(root.resolve("c/icon.png"), 3, ImageFolder.Background.BLACK);
        assertThat(black.pixels()).containsExactly(0, 0, 128, 0, 0, 0, 0, 0, 0);
        // grey + alpha
        BufferedImage ga = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        ga.setRGB(0, 0, 0x00FFFFFF);
        ga.setRGB(1, 0, 0xFF404040);
        ImageIO.write(ga, "png", root.resolve("c/icon.png").toFile());
        assertThat(ImageFolder.read(root.resolve("c/icon.png"), 1, ImageFolder.Background.WHITE).pixels()).containsExactly(255, 64);
    }

    @Test
    void sizesAreCountedAndClassesMayComeFromOutside() throws IOException {
        rgbPng(root.resolve("a/1.png"), 4, 3, 0, 0, 0);
        rgbPng(root.resolve("a/2.png"), 4, 3, 0, 0, 0);
        rgbPng(root.resolve("a/0.png"), 50, 60, 0, 0, 0);
        ImageFolder ds = ImageFolder.open(root, java.util.List.of("a", "z"), ImageFolder.Options.defaults());
        assertThat(ds.mostCommonSize()).isEqualTo(new ImageFolder.Size(3, 4));
        assertThat(ds.sizes()).containsEntry(new ImageFolder.Size(3, 4), 2).containsEntry(new ImageFolder.Size(60, 50), 1);
        assertThat(ds.classes()).containsExactly("a", "z");
        assertThat(ds.notes()).anyMatch(n -> n.contains("no images for class z"));
        assertThatThrownBy(() -> ImageFolder.open(root, java.util.List.of("b"), ImageFolder.Options.defaults()))
                .hasMessageContaining("has class folders [a] that are not among the classes [b]");
    }

    @Test
    void emptyRootsAreErrorsAndEmptyClassesAreNoted() throws IOException {
        assertThatThrownBy(() -> ImageFolder.open(root)).hasMessageContaining("has no class folders");
        Files.createDirectories(root.resolve("empty"));
        rgbPng(root.resolve("full/1.png"), 2, 2, 0, 0, 0);
        assertThat(ImageFolder.open(root).notes()).anyMatch(n -> n.contains("no images for class empty"));
        assertThatThrownBy(() -> ImageFolder.open(root.resolve("nope"))).hasMessageContaining("is not a folder");
    }
}
