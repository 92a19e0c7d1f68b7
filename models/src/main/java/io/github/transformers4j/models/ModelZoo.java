package io.github.transformers4j.models;

import io.github.transformers4j.models.bert.BertConfig;
import io.github.transformers4j.models.bert.BertViT;
import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.models.recurrent.RecurrentClassifier;
import io.github.transformers4j.models.recurrent.RecurrentConfig;
import io.github.transformers4j.models.vit.ConvViT;
import io.github.transformers4j.models.vit.ConvViTConfig;
import io.github.transformers4j.models.vit.EinsumViT;
import io.github.transformers4j.models.vit.EinsumViTConfig;
import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.tensor.Random4j;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Named model presets ({@code t4j train --model NAME}). Image size, channels and classes come from the data set; the
 * rest is fixed by the name. Templates below are written for 32 x 32 x 3 images and 10 classes.
 * <table>
 *   <caption>presets</caption>
 *   <tr><th>name</th><th>class</th><th>what</th></tr>
 *   <tr><td>vit-mini-p4</td><td>{@link VisionTransformer}</td><td>128-d, 4 layers, 4 heads, FFN 512, linear patches 4</td></tr>
 *   <tr><td>vit-tiny-p4</td><td>{@link VisionTransformer}</td><td>256-d, 4 layers, 4 heads, FFN 1024, linear patches 4</td></tr>
 *   <tr><td>vit-conv-p16</td><td>{@link ConvViT}</td><td>Conv2d patches 16 + LayerNorm, cls token, learned positions,
 *       256-d, 3 layers, 4 heads, FFN 4 d, linear head</td></tr>
 *   <tr><td>vit-sincos-p8</td><td>{@link ConvViT}</td><td>Conv2d patches 8, fixed sinusoidal positions, 256-d, 3 layers,
 *       8 heads, FFN 2048, dropout 0.1, global average pooling</td></tr>
 *   <tr><td>vit-window-p4</td><td>{@link ConvViT}</td><td>Conv2d patches 4 + LayerNorm, 128-d, 4 layers, 4 heads,
 *       each patch attends to a 5 x 5 window (blocked kernel), global class token</td></tr>
 *   <tr><td>vit-bert12-p4</td><td>{@link BertViT}</td><td>BERT encoder 256-d, 12 layers, 8 heads, intermediate 1024,
 *       dropout 0.1, Conv2d patches 4, cls token, Linear-GELU-Linear readout</td></tr>
 *   <tr><td>vit-einsum-p16</td><td>{@link EinsumViT}</td><td>einsum attention from one packed tensor, 256-d, 4 layers,
 *       8 heads, FFN 512, cls token after the patches, flatten-all-tokens MLP head</td></tr>
 *   <tr><td>gru-p16, lstm-p16, rnn-p16</td><td>{@link RecurrentClassifier}</td><td>Conv2d patches 16 + LayerNorm (64),
 *       one recurrent layer of 128 over the patch tokens, linear head on the last hidden state</td></tr>
 *   <tr><td>mae-tiny</td><td>{@link MaeClassifier} ({@link MaskedAutoencoder} for {@code t4j pretrain})</td>
 *       <td>encoder 256-d x 4, decoder 128-d x 2, patch 4, mask ratio 0.75</td></tr>
 * </table>
 */
public final class ModelZoo {
    private ModelZoo() {}

    /** Builds a preset's model for data of the given shape. */
    @FunctionalInterface
    public interface Factory {
        ImageClassifier create(int imageSize, int channels, int numClasses, Random4j rng);
    }

    /** A preset: its name, the family (sub-package), what it is, and how to build it. */
    public record Preset(String name, String family, String description, Factory factory) {
        public ImageClassifier create(int imageSize, int channels, int numClasses, Random4j rng) {
            return factory.create(imageSize, channels, numClasses, rng);
        }
    }

    private static final Map<String, Preset> PRESETS = new LinkedHashMap<>();

    /** mae-tiny's configuration for 32 x 32 x 3 images (patch 4, mask ratio 0.75). */
    public static final MaeConfig MAE_TINY = new MaeConfig(32, 3, 4, 256, 4, 4, 1024, 128, 2, 4, 512, 0.75, false, 10);

    static {
        vit("vit-mini-p4", "ViT 128-d, 4 layers, 4 heads, FFN 512, patch 4 (sized for the CPU)",
                new ViTConfig(32, 3, 4, 128, 4, 4, 512, 0.0, 10, "cls", false));
        vit("vit-tiny-p4", "ViT 256-d, 4 layers, 4 heads, FFN 1024, patch 4",
                new ViTConfig(32, 3, 4, 256, 4, 4, 1024, 0.0, 10, "cls", false));
        conv("vit-conv-p16", "ViT with Conv2d patches 16 + LayerNorm, cls token, learned positions, 256-d, 3 layers, 4 heads, FFN 1024",
                new ConvViTConfig(32, 3, 16, 256, 3, 4, 1024, 0.0, 10, true, "learned", "cls", 0, "mask"));
        conv("vit-sincos-p8", "ViT with Conv2d patches 8, fixed sinusoidal positions, 256-d, 3 layers, 8 heads, FFN 2048, dropout 0.1, average pooling",
                new ConvViTConfig(32, 3, 8, 256, 3, 8, 2048, 0.1, 10, false, "sincos", "mean", 0, "mask"));
        conv("vit-window-p4", "ViT with Conv2d patches 4 + LayerNorm, 128-d, 4 layers, 4 heads, FFN 512, 5x5-patch windowed attention (blocked)",
                new ConvViTConfig(32, 3, 4, 128, 4, 4, 512, 0.0, 10, true, "learned", "cls", 5, "blocked"));
        BertViT.Config bert = new BertViT.Config(32, 3, 4, 10, BertConfig.of(256, 12, 8, 1024, 65));
        add(new Preset("vit-bert12-p4", "bert", "BERT encoder 256-d, 12 layers, 8 heads, intermediate 1024, dropout 0.1, Conv2d patches 4, cls token, Linear-GELU-Linear readout",
                (s, c, k, rng) -> new BertViT(bert.withData(s, c, k), rng)));
        EinsumViTConfig einsum = new EinsumViTConfig(32, 3, 16, 256, 4, 8, 512, 256, 0.0, 10);
        add(new Preset("vit-einsum-p16", "vit", "ViT with einsum attention (one packed qkv tensor), 256-d, 4 layers, 8 heads, FFN 512, cls token last, MLP head over all tokens",
                (s, c, k, rng) -> new EinsumViT(einsum.withData(s, c, k), rng)));
        for (String cell : List.of("gru", "lstm", "rnn")) {
            RecurrentConfig rc = new RecurrentConfig(cell, 32, 3, 16, 64, 128, 1, false, 0.0, 10);
            add(new Preset(cell + "-p16", "recurrent", cell.toUpperCase(Locale.ROOT) + " 128 over Conv2d patch tokens 16 (+ LayerNorm, 64), linear head on the last hidden state",
                    (s, c, k, rng) -> new RecurrentClassifier(rc.withData(s, c, k), rng)));
        }
        add(new Preset("mae-tiny", "mae", "MAE encoder 256-d, 4 layers, 4 heads, FFN 1024, patch 4, linear head on the class token "
                + "(pre-train with 't4j pretrain --model mae-tiny': decoder 128-d x 2, mask ratio 0.75)",
                (s, c, k, rng) -> new MaeClassifier(MAE_TINY.withData(s, c, k), rng)));
    }

    private static void vit(String name, String description, ViTConfig template) {
        add(new Preset(name, "vit", description, (s, c, k, rng) -> new VisionTransformer(template.withData(s, c, k), rng)));
    }

    private static void conv(String name, String description, ConvViTConfig template) {
        add(new Preset(name, "vit", description, (s, c, k, rng) -> new ConvViT(template.withData(s, c, k), rng)));
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

    /** Builds a model from a configuration record (e.g. one read back from a checkpoint). */
    public static ImageClassifier create(Record config, Random4j rng) {
        return switch (config) {
            case ViTConfig c -> new VisionTransformer(c, rng);
            case ConvViTConfig c -> new ConvViT(c, rng);
            case EinsumViTConfig c -> new EinsumViT(c, rng);
            case BertViT.Config c -> new BertViT(c, rng);
            case RecurrentConfig c -> new RecurrentClassifier(c, rng);
            case MaeConfig c -> new MaeClassifier(c, rng);
            default -> throw new IllegalArgumentException("ModelZoo.create: no model for configuration " + config.getClass().getName());
        };
    }

    public static ImageClassifier create(String name, int imageSize, int channels, int numClasses, Random4j rng) {
        java.nio.file.Path hf = io.github.transformers4j.models.hf.HfImageClassifier.folder(name);
        if (hf != null) {
            ImageClassifier m = io.github.transformers4j.models.hf.HfModels.classifier(hf, numClasses, rng);
            if (m instanceof io.github.transformers4j.models.hf.HfImageClassifier v && v.vitConfig().imageSize() != imageSize)
                throw new IllegalArgumentException(name + " takes " + v.vitConfig().imageSize() + "x" + v.vitConfig().imageSize()
                        + " images, the data are " + imageSize + "x" + imageSize + " (--image-size " + v.vitConfig().imageSize() + " resizes them)");
            return m;
        }
        return preset(name).create(imageSize, channels, numClasses, rng);
    }

    /** Names of the presets that {@code t4j pretrain} knows. */
    public static List<String> pretrainNames() {
        return List.of("mae-tiny");
    }

    /** The self-supervised model behind a pre-trainable preset ({@code mae-tiny}: a {@link MaskedAutoencoder}). */
    public static MaskedAutoencoder createPretrainer(String name, int imageSize, int channels, Random4j rng) {
        if (!name.toLowerCase(Locale.ROOT).equals("mae-tiny"))
            throw new IllegalArgumentException("unknown pre-training model '" + name + "'; known: " + String.join(", ", pretrainNames()));
        return new MaskedAutoencoder(MAE_TINY.withData(imageSize, channels, 10), rng);
    }

    /** One line: name, what it is, its tokens and its parameter count, e.g. for the start of a training run. */
    public static String describe(String name, ImageClassifier model) {
        String shape = switch (model) {
            case VisionTransformer v -> tokens(v.config.numPatches() + 1, v.config.patchDim(), v.config.channels(), v.config.imageSize());
            case ConvViT v -> tokens(v.config.numTokens(), v.config.channels() * v.config.patchSize() * v.config.patchSize(),
                    v.config.channels(), v.config.imageSize());
            case EinsumViT v -> tokens(v.config.numPatches() + 1, v.config.channels() * v.config.patchSize() * v.config.patchSize(),
                    v.config.channels(), v.config.imageSize());
            case BertViT v -> tokens(v.config.numPatches() + 1, v.config.channels() * v.config.patchSize() * v.config.patchSize(),
                    v.config.channels(), v.config.imageSize());
            case RecurrentClassifier v -> String.format(Locale.ROOT, ", %d time steps, input %dx%dx%d", v.config.numPatches(),
                    v.config.channels(), v.config.imageSize(), v.config.imageSize());
            case MaeClassifier v -> tokens(v.config.numPatches() + 1, v.config.patchDim(), v.config.channels(), v.config.imageSize());
            default -> "";
        };
        String desc = PRESETS.containsKey(name) ? PRESETS.get(name).description() : model.getClass().getSimpleName();
        return String.format(Locale.ROOT, "%s: %s%s; %,d parameters", name, desc, shape, model.numParameters());
    }

    private static String tokens(int tokens, int values, int channels, int size) {
        return String.format(Locale.ROOT, ", %d tokens of %d values, input %dx%dx%d", tokens, values, channels, size, size);
    }
}
