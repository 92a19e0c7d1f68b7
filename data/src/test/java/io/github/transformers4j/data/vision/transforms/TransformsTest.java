package io.github.transformers4j.data.vision.transforms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.vision.Image;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TransformsTest {
    static final SampleRng RNG = new SampleRng(0);

    static Image img(int c, int h, int w, float... pixels) {
        return new Image(pixels, c, h, w);
    }

    /** [[1, 2, 3], [4, 5, 6]]. */
    static final Image TWO_BY_THREE = img(1, 2, 3, 1, 2, 3, 4, 5, 6);

    @Test
    void toTensorDividesBy255() {
        Image out = Transforms.toTensor().apply(img(1, 1, 3, 0, 51, 255), RNG);
        assertThat(out.pixels()).containsExactly(new float[] {0f, 0.2f, 1f}, within(1e-7f));
    }

    @Test
    void normalizeIsPerChannel() {
        Image in = img(2, 1, 2, 0.5f, 1.0f, 0f, 0.2f);
        Image out = Transforms.normalize(new float[] {0.5f, 0.1f}, new float[] {0.25f, 0.1f}).apply(in, RNG);
        assertThat(out.pixels()).containsExactly(new float[] {0f, 2f, -1f, 1f}, within(1e-6f));
        assertThat(in.pixels()).containsExactly(0.5f, 1.0f, 0f, 0.2f); // input untouched
        assertThatThrownBy(() -> Transforms.normalize(new float[] {0.5f}, new float[] {0.2f}).apply(in, RNG))
                .hasMessageContaining("image has 2 channels, mean/std have 1");
        assertThatThrownBy(() -> Transforms.normalize(new float[] {0.5f}, new float[] {0f}))
                .hasMessageContaining("std must be finite and non-zero");
    }

    @Test
    void flipMirrorsEachRowOfEachChannel() {
        Image two = img(2, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        assertThat(RandomHorizontalFlip.flip(TWO_BY_THREE).pixels()).containsExactly(3, 2, 1, 6, 5, 4);
        assertThat(RandomHorizontalFlip.flip(two).pixels()).containsExactly(3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10);
        assertThat(new RandomHorizontalFlip(1).apply(TWO_BY_THREE, new SampleRng(1)).pixels()).containsExactly(3, 2, 1, 6, 5, 4);
        assertThat(new RandomHorizontalFlip(0).apply(TWO_BY_THREE, new SampleRng(1))).isSameAs(TWO_BY_THREE);
    }

    @Test
    void flipWithHalfProbabilityFlipsAboutHalf() {
        var flip = Transforms.randomHorizontalFlip(0.5);
        int flipped = 0;
        for (int i = 0; i < 2000; i++) if (flip.apply(TWO_BY_THREE, SampleRng.of(1, 0, i)) != TWO_BY_THREE) flipped++;
        assertThat(flipped).isBetween(900, 1100);
    }

    @Test
    void cropWithPaddingReadsZerosOutsideTheImage() {
        // padded by 1:  0 0 0 0 0 / 0 1 2 3 0 / 0 4 5 6 0 / 0 0 0 0 0
        assertThat(RandomCrop.crop(TWO_BY_THREE, 1, 2, 2, 3, 1).pixels()).containsExactly(2, 3, 0, 5, 6, 0);
        assertThat(RandomCrop.crop(TWO_BY_THREE, 0, 0, 2, 2, 1).pixels()).containsExactly(0, 0, 0, 1);
        assertThat(RandomCrop.crop(TWO_BY_THREE, 2, 3, 2, 2, 1).pixels()).containsExactly(6, 0, 0, 0);
        assertThat(RandomCrop.crop(TWO_BY_THREE, 0, 0, 4, 5, 1).pixels())
                .containsExactly(0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void randomCropDrawsTopThenLeftUniformly() {
        RandomCrop crop = Transforms.randomCrop(2, 3, 1); // 3 possible tops (0..2) x 3 lefts (0..2)
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            SampleRng draws = SampleRng.of(4, 0, i);
            int top = draws.nextInt(3), left = draws.nextInt(3);
            Image got = crop.apply(TWO_BY_THREE, SampleRng.of(4, 0, i));
            assertThat(got.pixels()).containsExactly(RandomCrop.crop(TWO_BY_THREE, top, left, 2, 3, 1).pixels());
            seen.add(top + "," + left);
        }
        assertThat(seen).hasSize(9);
        // crop as large as the padded image: only one position
        assertThat(Transforms.randomCrop(4, 5, 1).apply(TWO_BY_THREE, new SampleRng(9)).pixels())
                .containsExactly(0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0);
        assertThatThrownBy(() -> Transforms.randomCrop(5, 1).apply(TWO_BY_THREE, RNG))
                .hasMessageContaining("crop [5, 5] larger than the padded image [4, 5]");
    }

    @Test
    void resizeOfAConstantImageStaysConstant() {
        float[] p = new float[3 * 5 * 7];
        Arrays.fill(p, 0.37f);
        Image constant = img(3, 5, 7, p);
        for (int[] size : new int[][] {{10, 14}, {2, 3}, {5, 9}, {1, 1}, {32, 32}}) {
            Image out = Transforms.resize(size[0], size[1]).apply(constant, RNG);
            assertThat(out.shape()).containsExactly(3, size[0], size[1]);
            for (float v : out.pixels()) assertThat(v).isCloseTo(0.37f, within(1e-6f));
        }
    }

    @Test
    void bilinearMatchesHandComputedHalfPixelValues() {
        // width 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (right edge) -> 0, 1, 3, 4
        assertThat(Transforms.resize(1, 4).apply(img(1, 1, 2, 0, 4), RNG).pixels()).containsExactly(0, 1, 3, 4);
        // 2x2 -> 4x4: rows as above, then the same weights between rows [0, 4] and [8, 12]
        assertThat(Transforms.resize(4, 4).apply(img(1, 2, 2, 0, 4, 8, 12), RNG).pixels())
                .containsExactly(0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12);
        // width 4 -> 2: sources 0.5 and 2.5
        assertThat(Transforms.resize(1, 2).apply(img(1, 1, 4, 0, 1, 3, 4), RNG).pixels()).containsExactly(0.5f, 3.5f);
        // width 3 -> 2: sources 0.25 and 1.75 -> 0.75*0 + 0.25*4 = 1, 0.25*4 + 0.75*8 = 7
        assertThat(Transforms.resize(1, 2).apply(img(1, 1, 3, 0, 4, 8), RNG).pixels()).containsExactly(1, 7);
    }

    @Test
    void grayscaleToRgbRepeatsTheChannel() {
        Image out = Transforms.grayscaleToRgb().apply(img(1, 1, 2, 0.2f, 0.7f), RNG);
        assertThat(out.shape()).containsExactly(3, 1, 2);
        assertThat(out.pixels()).containsExactly(0.2f, 0.7f, 0.2f, 0.7f, 0.2f, 0.7f);
        Image rgb = img(3, 1, 1, 1, 2, 3);
        assertThat(Transforms.grayscaleToRgb().apply(rgb, RNG)).isSameAs(rgb);
        assertThatThrownBy(() -> Transforms.grayscaleToRgb().apply(img(2, 1, 1, 1, 2), RNG))
                .hasMessageContaining("expected 1 or 3 channels");
    }

    @Test
    void composedPipelineIsReproducibleForASeedAndSample() {
        var pipeline = Transforms.compose(Transforms.randomCrop(2, 2, 1), Transforms.randomHorizontalFlip(0.5),
                Transforms.toTensor(), Transforms.normalize(new float[] {0.5f}, new float[] {0.5f}));
        Image in = img(1, 2, 3, 0, 51, 102, 153, 204, 255);
        Image a = pipeline.apply(in, SampleRng.of(1, 2, 3));
        assertThat(pipeline.apply(in, SampleRng.of(1, 2, 3))).isEqualTo(a);
        assertThat(a.shape()).containsExactly(1, 2, 2);
        // padding reads 0, which normalizes to (0/255 - 0.5) / 0.5 = -1; image values land in [-1, 1]
        for (float v : a.pixels()) assertThat(v).isBetween(-1f, 1f);
        assertThat(pipeline.toString()).contains("RandomCrop[height=2, width=2, padding=1]", "RandomHorizontalFlip[p=0.5]");
    }

    @Test
    void resizeShorterSideThenCenterCropAsTorchvision() {
        // torchvision: Resize(16) of 30x40 (h x w) gives 16 x int(16 * 40 / 30) = 16 x 21
        float[] px = new float[30 * 40];
        for (int i = 0; i < px.length; i++) px[i] = i % 40; // value = column
        Image wide = new Image(px, 1, 30, 40);
        Image r = Transforms.resize(16).apply(wide, new SampleRng(0));
        assertThat(r.shape()).containsExactly(1, 16, 21);
        assertThat(Transforms.resize(16).apply(new Image(new float[40 * 30], 1, 40, 30), new SampleRng(0)).shape()).containsExactly(1, 21, 16);
        // CenterCrop(16) of 16 x 21: left = round(5 / 2) = 2 (Python rounds half to even), so columns 2..17
        Image c = Transforms.centerCrop(16).apply(r, new SampleRng(0));
        assertThat(c.shape()).containsExactly(1, 16, 16);
        assertThat(c.get(0, 0, 0)).isEqualTo(r.get(0, 0, 2));
        assertThat(c.get(0, 5, 15)).isEqualTo(r.get(0, 5, 17));
        // top = round(3 / 2) = 2 for a 19-row image
        Image tall = new Image(rows(19, 4), 1, 19, 4);
        assertThat(new CenterCrop(16, 4).apply(tall, new SampleRng(0)).get(0, 0, 0)).isEqualTo(2f);
        // smaller than the window: zero padding around it (torchvision pads, then crops)
        Image small = new Image(new float[] {5, 5, 5, 5}, 1, 2, 2);
        Image padded = new CenterCrop(4, 4).apply(small, new SampleRng(0));
        assertThat(padded.pixels()).containsExactly(0, 0, 0, 0, 0, 5, 5, 0, 0, 5, 5, 0, 0, 0, 0, 0);
    }

    private static float[] rows(int h, int w) {
        float[] p = new float[h * w];
        for (int i = 0; i < p.length; i++) p[i] = i / w; // value = row
        return p;
    }
}
