package io.github.transformers4j.models.zoo;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.models.mae.MaeClassifier;
import io.github.transformers4j.models.mae.MaeConfig;
import io.github.transformers4j.models.mae.MaskedAutoencoder;
import io.github.transformers4j.models.recurrent.RecurrentClassifier;
import io.github.transformers4j.models.recurrent.RecurrentConfig;
import io.github.transformers4j.models.vit.Pooling;
import io.github.transformers4j.models.vit.Positions;
import io.github.transformers4j.models.vit.ViTConfig;
import io.github.transformers4j.models.vit.ViTConfig.Blocks;
import io.github.transformers4j.models.vit.ViTConfig.ClassToken;
import io.github.transformers4j.models.vit.ViTConfig.Head;
import io.github.transformers4j.models.vit.ViTConfig.Norm;
import io.github.transformers4j.models.vit.ViTConfig.PatchEmbed;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.ParamGroups;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One small model per family learns a toy task on the CPU in a second or two: 12 x 12 grey images of 4 classes, class
 * k = a bright 6 x 6 quadrant k over noise. The loss of the fixed batch must fall below half of its start.
 */
class TrainingSanityTest {
    static final int SIZE = 12, CLASSES = 4, BATCH = 16, STEPS = 40;

    static Tensor[] data(long seed) {
        Random4j r = new Random4j(seed);
        float[] noise = Tensor.rand(r, BATCH, 1, SIZE, SIZE).toFloatArray();
        long[] labels = new long[BATCH];
        for (int i = 0; i < BATCH; i++) {
            int k = i % CLASSES;
            labels[i] = k;
            for (int y = 0; y < SIZE; y++)
                for (int x = 0; x < SIZE; x++)
                    if (y / 6 == k / 2 && x / 6 == k % 2) noise[(i * SIZE + y) * SIZE + x] += 2f;
        }
        return new Tensor[] {Tensor.of(noise, BATCH, 1, SIZE, SIZE), Tensor.ofLongs(labels, BATCH)};
    }

    static ViTConfig.Builder small() {
        return ViTConfig.builder().imageSize(SIZE).channels(1).patchSize(4).dim(16).depth(1).heads(2).mlpDim(32).numClasses(CLASSES);
    }

    static Function<Random4j, ImageClassifier> vit(ViTConfig.Builder c) {
        return rng -> new VisionTransformer(c.build(), rng);
    }

    static Stream<Arguments> families() {
        return Stream.of(
                Arguments.of("vit (conv, learned, cls)", vit(small().patchEmbed(PatchEmbed.CONV_NORM).norm(Norm.NONE))),
                Arguments.of("vit (sincos, mean)", vit(small().patchEmbed(PatchEmbed.CONV).norm(Norm.NONE).classToken(ClassToken.NONE)
                        .positions(Positions.SINCOS).pooling(Pooling.MEAN))),
                Arguments.of("vit (windowed, blocked)", vit(small().patchEmbed(PatchEmbed.CONV_NORM).norm(Norm.NONE)
                        .window(3, WindowedEncoderLayer.Impl.BLOCKED))),
                Arguments.of("einsum vit", vit(small().patchEmbed(PatchEmbed.CONV).classToken(ClassToken.LAST).blocks(Blocks.EINSUM)
                        .norm(Norm.TOKENS).pooling(Pooling.ALL).head(Head.MLP, 16))),
                Arguments.of("bert", vit(small().depth(2).patchEmbed(PatchEmbed.CONV).norm(Norm.NONE).blocks(Blocks.BERT).head(Head.READOUT, 16))),
                Arguments.of("gru", (Function<Random4j, ImageClassifier>) rng -> new RecurrentClassifier(
                        RecurrentConfig.builder().imageSize(SIZE).channels(1).patchSize(6).embedDim(16).hiddenSize(16).numClasses(CLASSES).build(), rng)),
                Arguments.of("lstm (2 layers, bidirectional)", (Function<Random4j, ImageClassifier>) rng -> new RecurrentClassifier(
                        RecurrentConfig.builder().cell(RecurrentConfig.Cell.LSTM).imageSize(SIZE).channels(1).patchSize(6).embedDim(16).hiddenSize(16)
                                .numLayers(2).bidirectional(true).numClasses(CLASSES).build(), rng)),
                Arguments.of("mae classifier", (Function<Random4j, ImageClassifier>) rng -> new MaeClassifier(
                        new MaeConfig(SIZE, 1, 4, 16, 1, 2, 32, 8, 1, 2, 16, 0.75, false, CLASSES), rng)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void classifierLossFalls(String family, Function<Random4j, ImageClassifier> make) {
        ImageClassifier model = make.apply(new Random4j(0));
        Tensor[] d = data(1);
        double[] first = {0}, last = {0};
        train(model, model instanceof RecurrentClassifier ? 1e-2 : 3e-3, step -> F.crossEntropy(model.forward(d[0]), d[1]), first, last);
        assertThat(last[0]).as(family + ": loss %.4f -> %.4f", first[0], last[0]).isLessThan(first[0] / 2);
    }

    @Test
    void maskedAutoencoderReconstructionLossFalls() {
        var mae = new MaskedAutoencoder(new MaeConfig(SIZE, 1, 4, 16, 1, 2, 32, 16, 1, 2, 32, 0.75, false, CLASSES), new Random4j(0));
        Tensor images = data(2)[0];
        double[] first = {0}, last = {0};
        // the same masks at every step, so that the loss values are comparable
        train(mae, 1e-2, step -> mae.forward(images, new Random4j(3)).loss(), first, last);
        assertThat(last[0]).as("MAE loss %.4f -> %.4f", first[0], last[0]).isLessThan(first[0] / 2);
    }

    private static void train(Module model, double lr, Function<Integer, Tensor> loss, double[] first, double[] last) {
        var opt = new AdamW(ParamGroups.weightDecaySplit(model, 0.0), AdamW.options(lr));
        for (int step = 0; step < STEPS; step++) {
            try (var scope = Memory.scope()) {
                opt.zeroGrad();
                Tensor l = loss.apply(step);
                l.backward();
                opt.step();
                double v = l.to(DType.F64).item();
                if (step == 0) first[0] = v;
                last[0] = v;
            }
        }
    }
}
