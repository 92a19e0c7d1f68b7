package io.github.transformers4j.models.mae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MaeTest {
    /** 16 x 16 x 1 images, patch 4: 16 patches, 4 of them visible at mask ratio 0.75. */
    static final MaeConfig SMALL = new MaeConfig(16, 1, 4, 16, 1, 2, 32, 8, 1, 2, 16, 0.75, false, 3);

    @Test
    void idsRestoreInvertsIdsShuffle() {
        Masking m = Masking.random(new Random4j(5), 4, 16, 4, Device.CPU);
        long[] s = m.idsShuffle().toLongArray(), r = m.idsRestore().toLongArray();
        for (int b = 0; b < 4; b++) {
            Set<Long> row = new HashSet<>();
            for (int i = 0; i < 16; i++) {
                row.add(s[b * 16 + i]);
                assertThat(s[b * 16 + (int) r[b * 16 + i]]).as("ids_shuffle[ids_restore[i]] = i").isEqualTo(i);
                assertThat(r[b * 16 + (int) s[b * 16 + i]]).as("ids_restore[ids_shuffle[i]] = i").isEqualTo(i);
            }
            assertThat(row).as("row %d is a permutation", b).hasSize(16);
        }
        // gathering a sequence with ids_shuffle and then with ids_restore gives it back
        Tensor x = Tensor.randn(new Random4j(1), 4, 16, 3);
        Tensor back = Masking.gatherTokens(Masking.gatherTokens(x, m.idsShuffle()), m.idsRestore());
        assertThat(back.toFloatArray()).containsExactly(x.toFloatArray());
    }

    @Test
    void exactlyAQuarterOfThePatchesStaysVisibleAndTheMaskSaysWhich() {
        MaeConfig tiny = ModelZoo.MAE_TINY; // 32 x 32, patch 4: 64 patches
        assertThat(tiny.numPatches()).isEqualTo(64);
        assertThat(tiny.numVisible()).isEqualTo(16);
        assertThat(tiny.withData(28, 1, 10).numVisible()).as("floor(49 / 4), as MAE's len_keep").isEqualTo(12);
        Masking m = Masking.random(new Random4j(9), 3, 64, 16, Device.CPU);
        float[] mask = m.mask().toFloatArray();
        long[] keep = m.idsKeep().contiguous().toLongArray();
        for (int b = 0; b < 3; b++) {
            int hidden = 0;
            for (int i = 0; i < 64; i++) hidden += (int) mask[b * 64 + i];
            assertThat(hidden).isEqualTo(48);
            for (int j = 0; j < 16; j++) assertThat(mask[b * 64 + (int) keep[b * 16 + j]]).as("kept patch is visible").isEqualTo(0f);
        }
        var mae = new MaskedAutoencoder(SMALL, new Random4j(0));
        var out = mae.forward(Tensor.randn(new Random4j(2), 2, 1, 16, 16), new Random4j(3));
        assertThat(out.latent().shape()).as("the encoder sees the class token and 4 patches").containsExactly(2, 5, 16);
        assertThat(out.pred().shape()).containsExactly(2, 16, 16);
    }

    @Test
    void masksComeFromTheSeedAndDifferBetweenImages() {
        long[] a = Masking.random(new Random4j(11), 2, 16, 4, Device.CPU).idsShuffle().toLongArray();
        long[] b = Masking.random(new Random4j(11), 2, 16, 4, Device.CPU).idsShuffle().toLongArray();
        long[] c = Masking.random(new Random4j(12), 2, 16, 4, Device.CPU).idsShuffle().toLongArray();
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
        assertThat(Arrays.copyOfRange(a, 0, 16)).isNotEqualTo(Arrays.copyOfRange(a, 16, 32));
    }

    @Test
    void lossCountsOnlyTheHiddenPatches() {
        var mae = new MaskedAutoencoder(SMALL, new Random4j(0));
        Tensor images = Tensor.randn(new Random4j(2), 2, 1, 16, 16);
        Masking m = Masking.random(new Random4j(4), 2, 16, 4, Device.CPU);
        Tensor pred = Tensor.randn(new Random4j(5), 2, 16, 16).requiresGrad(true);
        Tensor loss = mae.loss(images, pred, m.mask());
        // by hand: mean over hidden patches of the per-patch mean squared error
        float[] p = pred.toFloatArray(), t = mae.target(images).toFloatArray(), mask = m.mask().toFloatArray();
        double sum = 0;
        for (int i = 0; i < 32; i++) {
            if (mask[i] == 0) continue;
            double s = 0;
            for (int j = 0; j < 16; j++) s += Math.pow(p[i * 16 + j] - t[i * 16 + j], 2);
            sum += s / 16;
        }
        assertThat(loss.item()).isCloseTo(sum / 24, org.assertj.core.data.Offset.offset(1e-5));
        loss.backward();
        float[] g = pred.grad().toFloatArray();
        for (int i = 0; i < 32; i++)
            for (int j = 0; j < 16; j++) {
                if (mask[i] == 0) assertThat(g[i * 16 + j]).as("no gradient at a visible patch").isEqualTo(0f);
            }
        assertThat(pred.grad().abs().sum().item()).isGreaterThan(0);
    }

    @Test
    void normalisedPixelTargetHasZeroMeanAndUnitVariancePerPatch() {
        var mae = new MaskedAutoencoder(SMALL.withNormPixLoss(true), new Random4j(0));
        Tensor t = mae.target(Tensor.rand(new Random4j(2), 2, 1, 16, 16).mul(3).add(1));
        assertThat(t.mean(-1, false).abs().max().item()).isLessThan(1e-5);
        assertThat(t.var(-1, false).sub(1).abs().max().item()).isLessThan(1e-3);
        Tensor images = Tensor.rand(new Random4j(3), 1, 1, 16, 16);
        Tensor recon = mae.reconstruct(mae.target(images), images);
        assertThat(recon.sub(images).abs().max().item()).as("reconstruct undoes the normalisation").isLessThan(1e-4);
    }

    @Test
    void frozenEncoderGetsNoGradientsAndFineTuningDoes() {
        var clf = new MaeClassifier(SMALL, new Random4j(0));
        Tensor x = Tensor.randn(new Random4j(1), 2, 1, 16, 16);
        clf.freezeEncoder(true);
        clf.forward(x).square().sum().backward();
        clf.encoder.namedParameters().forEach((k, p) -> assertThat(p.grad()).as("frozen encoder." + k).isNull());
        clf.head.namedParameters().forEach((k, p) -> assertThat(p.grad()).as("head." + k).isNotNull());
        assertThat(clf.trainableParameters().keySet()).containsExactly("head.weight", "head.bias");

        clf.zeroGrad();
        clf.freezeEncoder(false);
        clf.forward(x).square().sum().backward();
        clf.encoder.namedParameters().forEach((k, p) -> assertThat(p.grad()).as("fine-tuned encoder." + k).isNotNull());
        assertThat(clf.trainableParameters()).hasSize(clf.namedParameters().size());
    }

    @Test
    void classifierLoadsThePretrainedEncoderAndIgnoresTheDecoder() {
        var mae = new MaskedAutoencoder(SMALL, new Random4j(7));
        var clf = new MaeClassifier(SMALL, new Random4j(8));
        clf.loadEncoder(mae.stateDict());
        mae.encoder.stateDict().forEach((k, v) ->
                assertThat(clf.encoder.stateDict().get(k).toFloatArray()).as(k).containsExactly(v.toFloatArray()));
        Tensor x = Tensor.randn(new Random4j(1), 2, 1, 16, 16);
        assertThat(clf.encoder.forward(x).toFloatArray()).containsExactly(mae.encoder.forward(x).toFloatArray());
        assertThatThrownBy(() -> clf.loadEncoder(Map.of("decoder.embed.weight", Tensor.zeros(8, 16))))
                .hasMessageContaining("no 'encoder.*' keys");
        var other = new MaskedAutoencoder(new MaeConfig(16, 1, 4, 24, 1, 2, 32, 8, 1, 2, 16, 0.75, false, 3), new Random4j(0));
        assertThatThrownBy(() -> clf.loadEncoder(other.stateDict())).hasMessageContaining("shape");
    }

    @Test
    void badConfigurationsAreRefused() {
        assertThatThrownBy(() -> new MaeConfig(30, 1, 4, 16, 1, 2, 32, 8, 1, 2, 16, 0.75, false, 3)).hasMessageContaining("not a multiple");
        assertThatThrownBy(() -> Masking.of(Tensor.ofLongs(new long[] {0, 0, 1, 2}, 1, 4), 1)).hasMessageContaining("not a permutation");
    }
}
