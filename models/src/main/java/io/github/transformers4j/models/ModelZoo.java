package io.github.transformers4j.models;

import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.models.recurrent.RecurrentClassifier;
import io.github.transformers4j.models.recurrent.RecurrentConfig;
import io.github.transformers4j.models.seq2seq.Seq2SeqConfig;
import io.github.transformers4j.models.seq2seq.Seq2SeqSize;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.models.vit.Pooling;
import io.github.transformers4j.models.vit.Positions;
import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.ViTConfig.Blocks;
import io.github.transformers4j.models.vit.ViTConfig.ClassToken;
import io.github.transformers4j.models.vit.ViTConfig.Head;
import io.github.transformers4j.models.vit.ViTConfig.Norm;
import io.github.transformers4j.models.vit.ViTConfig.PatchEmbed;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.tensor.Random4j;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one registry of named presets ({@code t4j train --model NAME}, {@code t4j pretrain --model NAME}, {@code t4j
 * models}): image classifiers, the pre-trainer behind a classifier (mae-tiny) and encoder-decoder summarizers. A
 * preset serves one or more {@link Task}s. Image size, channels and classes come from the data set, vocabulary and
 * positions from the tokenizer; the rest is fixed by the name. Image templates are written for 32 x 32 x 3 images and
 * 10 classes.
 * <table>
 *   <caption>presets</caption>
 *   <tr><th>name</th><th>class</th><th>what</th></tr>
 *   <tr><td>vit-mini-p4</td><td>{@link VisionTransformer}</td><td>128-d, 4 layers, 4 heads, FFN 512, linear patches 4</td></tr>
 *   <tr><td>vit-tiny-p4</td><td>{@link VisionTransformer}</td><td>256-d, 4 layers, 4 heads, FFN 1024, linear patches 4</td></tr>
 *   <tr><td>vit-conv-p16</td><td>{@link VisionTransformer}</td><td>Conv2d patches 16 + LayerNorm, cls token, learned positions,
 *       256-d, 3 layers, 4 heads, FFN 4 d, linear head</td></tr>
 *   <tr><td>vit-sincos-p8</td><td>{@link VisionTransformer}</td><td>Conv2d patches 8, fixed sinusoidal positions, 256-d, 3 layers,
 *       8 heads, FFN 2048, dropout 0.1, global average pooling</td></tr>
 *   <tr><td>vit-window-p4</td><td>{@link VisionTransformer}</td><td>Conv2d patches 4 + LayerNorm, 128-d, 4 layers, 4 heads,
 *       each patch attends to a 5 x 5 window (blocked kernel), global class token</td></tr>
 *   <tr><td>vit-bert12-p4</td><td>{@link VisionTransformer}</td><td>BERT encoder 256-d, 12 layers, 8 heads, intermediate 1024,
 *       dropout 0.1, Conv2d patches 4, cls token, Linear-GELU-Linear readout</td></tr>
 *   <tr><td>vit-einsum-p16</td><td>{@link VisionTransformer}</td><td>einsum attention from one packed tensor, 256-d, 4 layers,
 *       8 heads, FFN 512, cls token after the patches, flatten-all-tokens MLP head</td></tr>
 *   <tr><td>gru-p16, lstm-p16, rnn-p16</td><td>{@link RecurrentClassifier}</td><td>Conv2d patches 16 + LayerNorm (64),
 *       one recurrent layer of 128 over the patch tokens, linear head on the last hidden state</td></tr>
 *   <tr><td>mae-tiny</td><td>{@link MaeClassifier}; pre-training: {@link MaskedAutoencoder}</td>
 *       <td>encoder 256-d x 4, decoder 128-d x 2, patch 4, mask ratio 0.75</td></tr>
 *   <tr><td>summarizer-4x512</td><td>{@link Seq2SeqTransformer}</td><td>4+4 post-norm layers, d_model 512, 8 heads,
 *       FFN 2048, dropout 0.1 (the benchmark model)</td></tr>
 *   <tr><td>summarizer-tiny</td><td>{@link Seq2SeqTransformer}</td><td>2+2 layers, d_model 128, 4 heads, FFN 512,
 *       dropout 0.1 (sized for a CPU demo)</td></tr>
 * </table>
 */
public final class ModelZoo {
    private ModelZoo() {}

    /** What a preset can be built for. */
    public enum Task { IMAGE_CLASSIFICATION, PRETRAINING, SEQ2SEQ }

    /** Builds a preset's classifier for data of the given shape. */
    @FunctionalInterface
    public interface Factory {
        ImageClassifier create(int imageSize, int channels, int numClasses, Random4j rng);
    }

    /** Builds a preset's self-supervised model for images of the given shape. */
    @FunctionalInterface
    public interface PretrainerFactory {
        MaskedAutoencoder create(int imageSize, int channels, Random4j rng);
    }

    /**
     * A preset: its name, the family (sub-package), what it is, and the builder of each task it serves (null for the
     * tasks it does not).
     */
    public record Preset(String name, String family, String description, Factory classifier, PretrainerFactory pretrainer,
            Seq2SeqSize seq2seq) {
        public Set<Task> tasks() {
            Set<Task> t = EnumSet.noneOf(Task.class);
            if (classifier != null) t.add(Task.IMAGE_CLASSIFICATION);
            if (pretrainer != null) t.add(Task.PRETRAINING);
            if (seq2seq != null) t.add(Task.SEQ2SEQ);
            return t;
        }

        public ImageClassifier create(int imageSize, int channels, int numClasses, Random4j rng) {
            return need(classifier, Task.IMAGE_CLASSIFICATION).create(imageSize, channels, numClasses, rng);
        }

        public MaskedAutoencoder createPretrainer(int imageSize, int channels, Random4j rng) {
            return need(pretrainer, Task.PRETRAINING).create(imageSize, channels, rng);
        }

        public Seq2SeqConfig seq2seqConfig(int vocabSize, int maxPositions, int padId, int eosId) {
            return need(seq2seq, Task.SEQ2SEQ).config(vocabSize, maxPositions, padId, eosId);
        }

        private <T> T need(T builder, Task task) {
            if (builder == null) {
                throw new IllegalArgumentException("model '" + name + "' does not serve " + task.name().toLowerCase(Locale.ROOT).replace('_', ' ')
                        + " (it serves " + tasks() + "); presets that do: " + String.join(", ", names(task)));
            }
            return builder;
        }
    }

    private static final Map<String, Preset> PRESETS = new LinkedHashMap<>();

    /** mae-tiny's configuration for 32 x 32 x 3 images (patch 4, mask ratio 0.75). */
    public static final MaeConfig MAE_TINY = MaeConfig.builder().patchSize(4).encoder(256, 4, 4, 1024).decoder(128, 2, 4, 512)
            .maskRatio(0.75).build();

    static {
        vit("vit-mini-p4", "ViT 128-d, 4 layers, 4 heads, FFN 512, patch 4 (sized for the CPU)",
                ViTConfig.builder().patchSize(4).dim(128).depth(4).heads(4).mlpDim(512));
        vit("vit-tiny-p4", "ViT 256-d, 4 layers, 4 heads, FFN 1024, patch 4",
                ViTConfig.builder().patchSize(4).dim(256).depth(4).heads(4).mlpDim(1024));
        vit("vit-conv-p16", "ViT with Conv2d patches 16 + LayerNorm, cls token, learned positions, 256-d, 3 layers, 4 heads, FFN 1024",
                conv(16, 256, 3, 4, 1024).patchEmbed(PatchEmbed.CONV_NORM));
        vit("vit-sincos-p8", "ViT with Conv2d patches 8, fixed sinusoidal positions, 256-d, 3 layers, 8 heads, FFN 2048, dropout 0.1, average pooling",
                conv(8, 256, 3, 8, 2048).dropout(0.1).classToken(ClassToken.NONE).positions(Positions.SINCOS).pooling(Pooling.MEAN));
        vit("vit-window-p4", "ViT with Conv2d patches 4 + LayerNorm, 128-d, 4 layers, 4 heads, FFN 512, 5x5-patch windowed attention (blocked)",
                conv(4, 128, 4, 4, 512).patchEmbed(PatchEmbed.CONV_NORM).window(5, WindowedEncoderLayer.Impl.BLOCKED));
        vit("vit-bert12-p4", "BERT encoder 256-d, 12 layers, 8 heads, intermediate 1024, dropout 0.1, Conv2d patches 4, cls token, Linear-GELU-Linear readout",
                conv(4, 256, 12, 8, 1024).dropout(0.1).blocks(Blocks.BERT).head(Head.READOUT, 256));
        vit("vit-einsum-p16", "ViT with einsum attention (one packed qkv tensor), 256-d, 4 layers, 8 heads, FFN 512, cls token last, MLP head over all tokens",
                conv(16, 256, 4, 8, 512).classToken(ClassToken.LAST).blocks(Blocks.EINSUM).norm(Norm.TOKENS).pooling(Pooling.ALL)
                        .head(Head.MLP, 256));
        for (RecurrentConfig.Cell cell : RecurrentConfig.Cell.values()) {
            RecurrentConfig rc = RecurrentConfig.builder().cell(cell).build();
            image(cell.id() + "-p16", "recurrent", cell.name() + " 128 over Conv2d patch tokens 16 (+ LayerNorm, 64), linear head on the last hidden state",
                    (s, c, k, rng) -> new RecurrentClassifier(rc.withData(s, c, k), rng));
        }
        add(new Preset("mae-tiny", "mae", "MAE encoder 256-d, 4 layers, 4 heads, FFN 1024, patch 4, linear head on the class token "
                + "(pre-train with 't4j pretrain --model mae-tiny': decoder 128-d x 2, mask ratio 0.75)",
                (s, c, k, rng) -> new MaeClassifier(MAE_TINY.withData(s, c, k), rng),
                (s, c, rng) -> new MaskedAutoencoder(MAE_TINY.withData(s, c, 10), rng), null));
        seq2seq("summarizer-4x512", "encoder-decoder 4+4 layers, d_model 512, 8 heads, FFN 2048, dropout 0.1",
                new Seq2SeqSize(512, 4, 4, 8, 2048, 0.1));
        seq2seq("summarizer-tiny", "encoder-decoder 2+2 layers, d_model 128, 4 heads, FFN 512, dropout 0.1 (sized for the CPU)",
                new Seq2SeqSize(128, 2, 2, 4, 512, 0.1));
    }

    /** The course's conv variants: Conv2d patches, post-norm blocks, no final norm, a linear head on the class token. */
    private static ViTConfig.Builder conv(int patch, int dim, int depth, int heads, int mlpDim) {
        return ViTConfig.builder().patchEmbed(PatchEmbed.CONV).patchSize(patch).dim(dim).depth(depth).heads(heads).mlpDim(mlpDim)
                .norm(Norm.NONE);
    }

    private static void vit(String name, String description, ViTConfig.Builder template) {
        ViTConfig c = template.build();
        image(name, "vit", description, (s, ch, k, rng) -> new VisionTransformer(c.withData(s, ch, k), rng));
    }

    private static void image(String name, String family, String description, Factory factory) {
        add(new Preset(name, family, description, factory, null, null));
    }

    private static void seq2seq(String name, String description, Seq2SeqSize size) {
        add(new Preset(name, "seq2seq", description, null, null, size));
    }

    private static void add(Preset p) {
        PRESETS.put(p.name(), p);
    }

    /** Every preset's name, in registration order. */
    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    /** The names of the presets that serve {@code task}. */
    public static List<String> names(Task task) {
        return PRESETS.values().stream().filter(p -> p.tasks().contains(task)).map(Preset::name).toList();
    }

    /** Whether {@code name} is a preset that serves {@code task}. */
    public static boolean has(String name, Task task) {
        Preset p = name == null ? null : PRESETS.get(name.toLowerCase(Locale.ROOT));
        return p != null && p.tasks().contains(task);
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

    /** The self-supervised model behind a pre-trainable preset ({@code mae-tiny}: a {@link MaskedAutoencoder}). */
    public static MaskedAutoencoder createPretrainer(String name, int imageSize, int channels, Random4j rng) {
        return preset(name).createPretrainer(imageSize, channels, rng);
    }

    /** One line: name, what it is, its tokens and its parameter count, e.g. for the start of a training run. */
    public static String describe(String name, ImageClassifier model) {
        String shape = switch (model) {
            case VisionTransformer v -> tokens(v.config.numTokens(), v.config.patchDim(), v.config.channels(), v.config.imageSize());
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
