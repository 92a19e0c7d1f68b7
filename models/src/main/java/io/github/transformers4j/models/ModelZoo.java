package io.github.transformers4j.models;

import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.tensor.Random4j;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Named model presets. Image size, channels and classes come from the data set; the rest is fixed by the name:
 * <ul>
 *   <li>{@code vit-mini-p4}: ViT 128-d, 4 layers, 4 heads, FFN 512, patch 4, GELU, no dropout (sized for a CPU)</li>
 *   <li>{@code vit-tiny-p4}: ViT 256-d, 4 layers, 4 heads, FFN 1024, patch 4, GELU, no dropout</li>
 * </ul>
 */
public final class ModelZoo {
    private ModelZoo() {}

    /** A preset: its name, what it is, and its configuration for given data (size 0 placeholders filled in). */
    public record Preset(String name, String description, ViTConfig template) {
        public ViTConfig config(int imageSize, int channels, int numClasses) {
            return template.withData(imageSize, channels, numClasses);
        }
    }

    private static final Map<String, Preset> PRESETS = new LinkedHashMap<>();

    static {
        add(new Preset("vit-mini-p4", "ViT 128-d, 4 layers, 4 heads, FFN 512, patch 4 (sized for the CPU)",
                new ViTConfig(32, 3, 4, 128, 4, 4, 512, 0.0, 10, "cls", false)));
        add(new Preset("vit-tiny-p4", "ViT 256-d, 4 layers, 4 heads, FFN 1024, patch 4",
                new ViTConfig(32, 3, 4, 256, 4, 4, 1024, 0.0, 10, "cls", false)));
    }

    private static void add(Preset p) {
        PRESETS.put(p.name(), p);
    }

    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    public static Preset preset(String name) {
        Preset p = PRESETS.get(name.toLowerCase(Locale.ROOT));
        if (p == null) throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", names()));
        return p;
    }

    /** The preset's configuration for images of {@code imageSize} x {@code imageSize} x {@code channels}. */
    public static ViTConfig config(String name, int imageSize, int channels, int numClasses) {
        return preset(name).config(imageSize, channels, numClasses);
    }

    /** Builds a model from a configuration (e.g. one read back from a checkpoint). */
    public static ImageClassifier create(ViTConfig config, Random4j rng) {
        return new VisionTransformer(config, rng);
    }

    public static ImageClassifier create(String name, int imageSize, int channels, int numClasses, Random4j rng) {
        return create(config(name, imageSize, channels, numClasses), rng);
    }

    /** One line: name, shape, tokens and parameter count, e.g. for the start of a training run. */
    public static String describe(String name, ImageClassifier model) {
        String shape = model instanceof VisionTransformer v ? String.format(Locale.ROOT, ", %d tokens of %d values, input %dx%dx%d",
                v.config.numPatches() + 1, v.config.patchDim(), v.config.channels(), v.config.imageSize(), v.config.imageSize()) : "";
        String desc = PRESETS.containsKey(name) ? PRESETS.get(name).description() : model.getClass().getSimpleName();
        return String.format(Locale.ROOT, "%s: %s%s; %,d parameters", name, desc, shape, model.numParameters());
    }
}
