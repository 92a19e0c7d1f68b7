package io.github.transformers4j.cli;

import static io.github.transformers4j.cli.T4jTest.t4j;
import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code t4j train --dataset imagefolder:PATH} on folders as users have them: icons with alpha, mixed sizes, gaps, bad files. */
public class ImageFolderTrainTest {
    static final String[] GLYPHS = {"horizontal", "vertical", "diagonal"};

    /**
     * A 16x16 icon as desktop themes draw them: black (RGB 0) everywhere, the glyph's shape only in the alpha channel
     * (opaque on the glyph, transparent elsewhere). Class 0 a horizontal bar, 1 a vertical bar, 2 a diagonal, at a
     * random offset.
     */
    static void icon(Path file, int glyph, Random r) throws IOException {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_ARGB);
        int at = 3 + r.nextInt(9), len = 8 + r.nextInt(6), from = r.nextInt(16 - len + 1);
        for (int i = from; i < from + len; i++)
            for (int w = 0; w < 3; w++) {
                int x = switch (glyph) { case 0 -> i; case 1 -> at + w - 1; default -> Math.min(15, i + w); };
                int y = switch (glyph) { case 0 -> at + w - 1; case 1 -> i; default -> i; };
                img.setRGB(x, y, 0xFF000000);
            }
        Files.createDirectories(file.getParent());
        assertThat(ImageIO.write(img, "png", file.toFile())).isTrue();
    }

    public static void icons(Path dir, int perClass, long seed) throws IOException {
        Random r = new Random(seed);
        for (int g = 0; g < GLYPHS.length; g++)
            for (int i = 0; i < perClass; i++) icon(dir.resolve(GLYPHS[g]).resolve(String.format("%03d.png", i)), g, r);
    }

    @Test
    void iconsWhoseShapeIsInTheAlphaChannelTrainWellAboveChance(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("icons"), run = tmp.resolve("run");
        icons(data.resolve("train"), 120, 1);
        icons(data.resolve("test"), 30, 2);
        // without compositing every pixel would be black: the RGB samples of the files are all 0
        BufferedImage raw = ImageIO.read(data.resolve("train/vertical/000.png").toFile());
        assertThat(raw.getColorModel().hasAlpha()).isTrue();
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) assertThat(raw.getRGB(x, y) & 0xFFFFFF).isZero();

        T4jTest.Result r = t4j("train", "--model", "vit-mini-p4", "--dataset", "imagefolder:" + data, "--epochs", "4",
                "--batch-size", "24", "--lr", "0.002", "--val-split", "0.1", "--out", run.toString(), "--no-progress", "--workers", "0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("360 of 360 images have an alpha channel: composited on white (--background white|black)",
                "3 classes, 3x16x16");
        double acc = testAccuracy(r.out());
        assertThat(acc).as(r.out()).isGreaterThan(80.0); // chance is 33.3%
    }

    @Test
    void regularisationOptionsAreSavedWithTheRunAndCannotChangeOnResume(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("icons"), run = tmp.resolve("run");
        icons(data.resolve("train"), 20, 1);
        icons(data.resolve("test"), 5, 2);
        String[] common = {"--model", "vit-mini-p4", "--dataset", "imagefolder:" + data, "--batch-size", "20", "--val-split", "0.1",
                "--out", run.toString(), "--no-progress", "--workers", "0", "--no-test"};
        T4jTest.Result r = t4j(concat(new String[] {"train", "--epochs", "1", "--label-smoothing", "0.1", "--mixup", "0.8",
                "--cutmix", "1.0", "--drop-path", "0.1", "--ema", "0.9", "--augment", "--crop-padding", "2", "--random-erasing", "0.25"}, common));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readString(run.resolve("config.json"))).contains("\"labelSmoothing\" : 0.1", "\"mixup\" : 0.8",
                "\"cutmix\" : 1.0", "\"dropPath\" : 0.1", "\"ema\" : 0.9", "\"cropPadding\" : 2", "\"randomErasing\" : 0.25");
        refused(common, "--random-erasing 0.5 (the run has 0.25)", "--resume", "--epochs", "2", "--random-erasing", "0.5");
        refused(common, "--crop-padding 4 (the run has 2)", "--resume", "--epochs", "2", "--crop-padding", "4");
        refused(common, "--drop-path 0.2 (the run has 0.1)", "--resume", "--epochs", "2", "--drop-path", "0.2");
        refused(common, "--label-smoothing 0.3 (the run has 0.1)", "--resume", "--epochs", "2", "--label-smoothing", "0.3");
        refused(common, "--label-smoothing must be in [0, 1), got 1.0", "--epochs", "1", "--label-smoothing", "1");
        refused(common, "--mixup must be >= 0, got -1.0", "--epochs", "1", "--mixup", "-1");
        refused(common, "--drop-path must be in [0, 1), got 1.0", "--epochs", "1", "--drop-path", "1");
        refused(common, "--ema must be in [0, 1), got 1.0", "--epochs", "1", "--ema", "1");
    }

    /** t4j train with {@code options} and the common ones fails, saying {@code message}. */
    private static void refused(String[] common, String message, String... options) {
        String[] args = new String[options.length + 1];
        args[0] = "train";
        System.arraycopy(options, 0, args, 1, options.length);
        T4jTest.Result r = t4j(concat(args, common));
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains(message);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void mixedSizesMissingClassesAndBadFilesAreHandledUpFront(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("messy"), run = tmp.resolve("run");
        icons(data.resolve("train"), 20, 3);
        // one big image sorted first: the image size is the most common one, not the first file's
        BufferedImage big = new BufferedImage(512, 512, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(big, "png", data.resolve("train/diagonal/000-big.png").toFile());
        Files.createDirectories(data.resolve("train/empty"));
        // test/ lacks two classes and holds a zero-byte file
        Random r = new Random(4);
        for (int i = 0; i < 6; i++) icon(data.resolve("test/horizontal/" + i + ".png"), 0, r);
        Path zero = data.resolve("test/horizontal/zero.png");
        Files.write(zero, new byte[0]);

        // the bad file is reported before training, with its path; nothing is left behind
        T4jTest.Result bad = t4j("train", "--model", "vit-mini-p4", "--dataset", "imagefolder:" + data, "--epochs", "1",
                "--out", run.toString(), "--no-progress", "--workers", "0");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("1 of 7 files in " + data.resolve("test"), zero + ": empty file (0 bytes)", "--skip-bad-images");
        assertThat(bad.out()).doesNotContain("epoch 1/1");
        assertThat(run).doesNotExist();

        T4jTest.Result ok = t4j("train", "--model", "vit-mini-p4", "--dataset", "imagefolder:" + data, "--epochs", "1",
                "--batch-size", "16", "--out", run.toString(), "--no-progress", "--workers", "0", "--skip-bad-images");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).contains(
                "image size 16: 16x16 is the most common size in " + data.resolve("train") + " (60 of 61 images, 2 sizes in all)",
                "no images for class empty",
                "skipping 1 unreadable file (--skip-bad-images):\n  " + zero + ": empty file (0 bytes)",
                "4 classes, 3x16x16", "/6)");
        // the classes are the union of the splits' folders, so test labels match train labels
        assertThat(Files.readString(run.resolve("config.json"))).contains("\"diagonal\", \"empty\", \"horizontal\", \"vertical\"");

        // --image-size overrides; a val/ folder is the validation set instead of a split of train/
        for (int i = 0; i < 3; i++) icon(data.resolve("val/vertical/" + i + ".png"), 1, r);
        T4jTest.Result sized = t4j("train", "--model", "vit-mini-p4", "--dataset", "imagefolder:" + data, "--epochs", "1",
                "--batch-size", "16", "--out", tmp.resolve("run2").toString(), "--no-progress", "--workers", "0", "--skip-bad-images",
                "--image-size", "24");
        assertThat(sized.code()).as(sized.err()).isZero();
        assertThat(sized.out()).contains("3x24x24", "validation set: " + data.resolve("val") + " (3 images); --val-split is not used",
                "61 train / 3 val / 6 test images");
    }

    static double testAccuracy(String out) {
        Matcher m = Pattern.compile("test accuracy ([0-9.]+)%").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
