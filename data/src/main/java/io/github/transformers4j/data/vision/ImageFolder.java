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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;

/**
 * Images in one folder per class, like torchvision's ImageFolder: {@code root/<class>/**.png|jpg|jpeg|bmp|gif}.
 * Classes are the sub-folder names in sorted order (label = position), or a given list (the union of a data set's
 * splits, so a class missing from one split keeps its label); files are found recursively and sorted by path.
 * <p>
 * Opening scans every file's header up front: unreadable files are reported together with their paths (or skipped
 * with {@link Options#skipBadImages}), and the sizes and alpha channels found are kept ({@link #sizes()},
 * {@link #notes()}). Images are decoded on each {@code get} (in the loader's worker threads) and may differ in size:
 * follow with a resize for batching. Colour images become 3 channels, or 1 channel (ITU-R 601-2 luma, as PIL's
 * {@code convert("L")}); an alpha channel is composited on the {@link Background} (what a viewer shows: icons with
 * their shape in the alpha channel would otherwise be all black); grey images are read without gamma changes.
 */
public final class ImageFolder implements ImageClassificationDataset {
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    /** What transparent pixels are composited on. */
    public enum Background {
        WHITE(255), BLACK(0);

        final int value;

        Background(int value) {
            this.value = value;
        }

        public static Background parse(String name) {
            if (name == null) return WHITE;
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "white" -> WHITE;
                case "black" -> BLACK;
                default -> throw new IllegalArgumentException("--background must be white or black, got '" + name + "'");
            };
        }
    }

    /**
     * How the folder is read.
     *
     * @param channels      1 (luma) or 3 (RGB)
     * @param background    what an alpha channel is composited on
     * @param skipBadImages leave out files that cannot be read (each is named in {@link #notes()}) instead of failing
     */
    public record Options(int channels, Background background, boolean skipBadImages) {
        public Options {
            if (channels != 1 && channels != 3)
                throw new IllegalArgumentException("ImageFolder: channels must be 1 or 3, got " + channels);
            if (background == null) background = Background.WHITE;
        }

        /** RGB on white, unreadable files are an error. */
        public static Options defaults() {
            return new Options(3, Background.WHITE, false);
        }
    }

    /** One image file and its class index. */
    public record Sample(Path path, int label) {}

    /** Height and width of an image. */
    public record Size(int height, int width) {
        @Override
        public String toString() {
            return width + "x" + height;
        }
    }

    /** What a file's header says, or why it cannot be read. */
    private record Header(Size size, boolean alpha, String error) {}

    private final Path root;
    private final Options options;
    private final List<String> classes;
    private final List<Sample> samples;
    private final Map<Size, Integer> sizes;
    private final List<String> notes;

    private ImageFolder(Path root, Options options, List<String> classes, List<Sample> samples, Map<Size, Integer> sizes,
                        List<String> notes) {
        this.root = root;
        this.options = options;
        this.classes = classes;
        this.samples = samples;
        this.sizes = sizes;
        this.notes = notes;
    }

    /** An RGB image folder. */
    public static ImageFolder open(Path root) {
        return open(root, 3);
    }

    /** An image folder whose images are converted to {@code channels} (1 or 3) channels. */
    public static ImageFolder open(Path root, int channels) {
        return open(root, null, new Options(channels, Background.WHITE, false));
    }

    /** The class folder names under {@code root}, sorted (hidden folders left out). */
    public static List<String> classFolders(Path root) {
        if (!Files.isDirectory(root)) throw new DatasetException("ImageFolder: " + root + " is not a folder");
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new DatasetException("ImageFolder: cannot list " + root + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * An image folder with the given classes ({@code null}: its own class folders). A class without a folder or
     * without images has no samples here (a note says so); a class folder not in {@code classes} is an error.
     */
    public static ImageFolder open(Path root, List<String> classList, Options options) {
        List<String> found = classFolders(root);
        List<String> classes = classList;
        if (classes == null) {
            if (found.isEmpty())
                throw new DatasetException("ImageFolder: " + root + " has no class folders (expected " + root + "/<class>/<image>)");
            classes = found;
        } else {
            List<String> unknown = found.stream().filter(c -> !classList.contains(c)).toList();
            if (!unknown.isEmpty())
                throw new DatasetException("ImageFolder: " + root + " has class folders " + unknown + " that are not among the classes " + classes);
        }
        List<String> notes = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            Path dir = root.resolve(classes.get(label));
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path f : s.filter(Files::isRegularFile).filter(ImageFolder::isImageFile).sorted().toList()) samples.add(new Sample(f, label));
            } catch (IOException e) {
                throw new DatasetException("ImageFolder: cannot list " + dir + " (" + e.getMessage() + ")", e);
            }
        }

        // the up-front scan: headers only, in parallel (a decode per file would cost as much as an epoch)
        List<Header> headers = samples.parallelStream().map(s -> header(s.path())).toList();
        List<Sample> readable = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        Map<Size, Integer> sizes = new LinkedHashMap<>();
        int alpha = 0;
        for (int i = 0; i < samples.size(); i++) {
            Header h = headers.get(i);
            if (h.error() != null) {
                bad.add(samples.get(i).path() + ": " + h.error());
                continue;
            }
            readable.add(samples.get(i));
            sizes.merge(h.size(), 1, Integer::sum);
            if (h.alpha()) alpha++;
        }
        if (!bad.isEmpty() && !options.skipBadImages()) {
            throw new DatasetException("ImageFolder: " + bad.size() + " of " + samples.size() + " files in " + root
                    + " cannot be read as images:\n  " + String.join("\n  ", bad.subList(0, Math.min(bad.size(), 20)))
                    + (bad.size() > 20 ? "\n  ... and " + (bad.size() - 20) + " more" : "")
                    + "\nremove or replace them, or pass --skip-bad-images to train without them");
        }
        if (!bad.isEmpty()) {
            notes.add("warning: " + root + ": skipping " + bad.size() + " unreadable file" + (bad.size() == 1 ? "" : "s") + " (--skip-bad-images):\n  "
                    + String.join("\n  ", bad));
        }
        int[] perClass = new int[classes.size()];
        for (Sample smp : readable) perClass[smp.label()]++;
        List<String> empty = new ArrayList<>();
        for (int c = 0; c < perClass.length; c++) if (perClass[c] == 0) empty.add(classes.get(c));
        if (!empty.isEmpty()) {
            notes.add("warning: " + root + ": no images for class" + (empty.size() == 1 ? " " : "es ") + String.join(", ", empty)
                    + " (image files: " + EXTENSIONS.stream().sorted().collect(Collectors.joining(", ")) + ")");
        }
        if (alpha > 0) {
            notes.add(String.format(Locale.ROOT, "note: %s: %d of %d images have an alpha channel: composited on %s (--background white|black)",
                    root, alpha, readable.size(), options.background().name().toLowerCase(Locale.ROOT)));
        }
        Map<Size, Integer> bySize = sizes.entrySet().stream().sorted(Map.Entry.<Size, Integer>comparingByValue().reversed())
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
        return new ImageFolder(root, options, List.copyOf(classes), List.copyOf(readable), bySize, List.copyOf(notes));
    }

    /** Reads the header of {@code file}: size and whether it has alpha, or why it cannot be read. */
    private static Header header(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) return new Header(null, false, "cannot open the file");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                long bytes = Files.size(file);
                return new Header(null, false, bytes == 0 ? "empty file (0 bytes)" : "not an image format ImageIO can decode (" + bytes + " bytes)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                Size size = new Size(reader.getHeight(0), reader.getWidth(0));
                Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
                boolean alpha = types.hasNext() && types.next().getColorModel().hasAlpha();
                return new Header(size, alpha, null);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return new Header(null, false, "cannot decode its header (" + e.getMessage() + ")");
        }
    }

    /** Whether {@code p} names an image file this class reads (by extension; hidden files excluded). */
    public static boolean isImageFile(Path p) {
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

    public Options options() {
        return options;
    }

    /** Image sizes found by the scan with their counts, the most common first. */
    public Map<Size, Integer> sizes() {
        return sizes;
    }

    /** The most common image size (the first of equally common ones). */
    public Size mostCommonSize() {
        return sizes.keySet().stream().findFirst()
                .orElseThrow(() -> new DatasetException("ImageFolder: " + root + " has no readable images"));
    }

    /** Warnings and notes of the scan (empty classes, skipped files, alpha channels), one entry each. */
    public List<String> notes() {
        return notes;
    }

    @Override
    public int size() {
        return samples.size();
    }

    @Override
    public LabeledImage get(int index) {
        Dataset.checkIndex(index, samples.size(), "ImageFolder " + root);
        Sample s = samples.get(index);
        return new LabeledImage(read(s.path(), options.channels(), options.background()), s.label());
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public String description() {
        return "imagefolder " + root + " (" + samples.size() + " images, " + classes.size() + " classes, "
                + options.channels() + " channels)";
    }

    @Override
    public String toString() {
        return description();
    }

    /** Decodes one image file into {@code channels} (1 or 3) channels, CHW, values 0..255, alpha composited on {@code bg}. */
    public static Image read(Path file, int channels, Background bg) {
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
            double scale = 255.0 / ((1L << cm.getComponentSize(0)) - 1);
            boolean alpha = cm.hasAlpha() && raster.getNumBands() > 1;
            double alphaMax = alpha ? (1L << cm.getComponentSize(1)) - 1 : 1;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    double v = raster.getSample(x, y, 0) * scale;
                    if (alpha) {
                        double a = raster.getSample(x, y, 1) / alphaMax;
                        v = v * a + bg.value * (1 - a);
                    }
                    float f = (float) Math.rint(v);
                    for (int c = 0; c < channels; c++) out[c * plane + y * w + x] = f;
                }
            return new Image(out, channels, h, w);
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        boolean alpha = cm.hasAlpha();
        for (int i = 0; i < plane; i++) {
            int r = (argb[i] >> 16) & 0xFF, g = (argb[i] >> 8) & 0xFF, b = argb[i] & 0xFF;
            if (alpha) {
                // getRGB gives non-premultiplied sRGB: over-composite on the background, rounded to 0..255
                int a = argb[i] >>> 24;
                r = over(r, a, bg.value);
                g = over(g, a, bg.value);
                b = over(b, a, bg.value);
            }
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

    private static int over(int c, int a, int bg) {
        return (c * a + bg * (255 - a) + 127) / 255;
    }
}
