package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.Dataset;
import io.github.transformers4j.data.DatasetException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Images in one folder per class, like torchvision's ImageFolder: {@code root/<class>/**.png|jpg|jpeg|bmp|gif}.
 * Classes are the sub-folder names in sorted order (label = position); files are found recursively and sorted
 * by path. Images are decoded on each {@code get} (in the loader's worker threads) and may differ in size:
 * follow with a resize for batching. Colour images become 3 channels (alpha dropped), or 1 channel
 * (ITU-R 601-2 luma, as PIL's {@code convert("L")}) when asked for; grey images are read without gamma changes.
 */
public final class ImageFolder implements ImageClassificationDataset {
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    /** One image file and its class index. */
    public record Sample(Path path, int label) {}

    private final Path root;
    private final int channels;
    private final List<String> classes;
    private final List<Sample> samples;

    private ImageFolder(Path root, int channels, List<String> classes, List<Sample> samples) {
        this.root = root;
        this.channels = channels;
        this.classes = classes;
        this.samples = samples;
    }

    /** An RGB image folder. */
    public static ImageFolder open(Path root) {
        return open(root, 3);
    }

    /** An image folder whose images are converted to {@code channels} (1 or 3) channels. */
    public static ImageFolder open(Path root, int channels) {
        if (channels != 1 && channels != 3)
            throw new IllegalArgumentException("ImageFolder: channels must be 1 or 3, got " + channels);
        if (!Files.isDirectory(root)) throw new DatasetException("ImageFolder: " + root + " is not a folder");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            throw new DatasetException("ImageFolder: cannot list " + root + " (" + e + ")", e);
        }
        if (classDirs.isEmpty())
            throw new DatasetException("ImageFolder: " + root + " has no class folders (expected root/<class>/<image>)");
        List<String> classes = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        for (Path dir : classDirs) {
            int label = classes.size();
            classes.add(dir.getFileName().toString());
            List<Path> files;
            try (Stream<Path> s = Files.walk(dir)) {
                files = s.filter(Files::isRegularFile).filter(ImageFolder::isImageFile).sorted().toList();
            } catch (IOException e) {
                throw new DatasetException("ImageFolder: cannot list " + dir + " (" + e + ")", e);
            }
            if (files.isEmpty())
                throw new DatasetException("ImageFolder: class folder " + dir + " has no images with extensions "
                        + EXTENSIONS.stream().sorted().toList());
            for (Path f : files) samples.add(new Sample(f, label));
        }
        return new ImageFolder(root, channels, List.copyOf(classes), List.copyOf(samples));
    }

    static boolean isImageFile(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return !name.startsWith(".") && dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    public List<Sample> samples() {
        return samples;
    }

    public Path root() {
        return root;
    }

    @Override
    public int size() {
        return samples.size();
    }

    @Override
    public LabeledImage get(int index) {
        Dataset.checkIndex(index, samples.size(), "ImageFolder " + root);
        Sample s = samples.get(index);
        return new LabeledImage(read(s.path(), channels), s.label());
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public String description() {
        return "imagefolder " + root + " (" + samples.size() + " images, " + classes.size() + " classes, "
                + channels + " channels)";
    }

    @Override
    public String toString() {
        return description();
    }

    /** Decodes one image file into {@code channels} (1 or 3) channels, CHW, values 0..255. */
    public static Image read(Path file, int channels) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new DatasetException(file + ": cannot decode image (" + e.getMessage() + ")", e);
        }
        if (img == null)
            throw new DatasetException(file + ": not a readable image (no ImageIO decoder recognises its content)");
        int w = img.getWidth(), h = img.getHeight(), plane = w * h;
        float[] out = new float[channels * plane];
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel)) {
            // Read grey samples directly: getRGB would convert linear grey to sRGB and change the values.
            int bits = cm.getComponentSize(0);
            double scale = 255.0 / ((1L << bits) - 1);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float v = (float) Math.rint(raster.getSample(x, y, 0) * scale);
                    for (int c = 0; c < channels; c++) out[c * plane + y * w + x] = v;
                }
            return new Image(out, channels, h, w);
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < plane; i++) {
            int r = (argb[i] >> 16) & 0xFF, g = (argb[i] >> 8) & 0xFF, b = argb[i] & 0xFF;
            if (channels == 3) {
                out[i] = r;
                out[plane + i] = g;
                out[2 * plane + i] = b;
            } else {
                out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
            }
        }
        return new Image(out, channels, h, w);
    }
}
