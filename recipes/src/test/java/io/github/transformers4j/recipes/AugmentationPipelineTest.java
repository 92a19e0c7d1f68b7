package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.vision.Image;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training images a run's options give: crops within --crop-padding, flips, and --random-erasing's rectangles. */
class AugmentationPipelineTest {
    @TempDir
    static Path data;

    @BeforeAll
    static void idx() throws IOException {
        MaeRecipeTest.writeIdx(data, "train", 40, 3);
        MaeRecipeTest.writeIdx(data, "t10k", 8, 4);
    }

    static RunConfig.Builder run() {
        return RunConfig.builder().dataset("fashion-mnist").dataDir(data.toString()).valSplit(0);
    }

    static Image train(RunConfig cfg, int i) {
        return VisionRecipe.openData(cfg, null, false).train().get(i).image();
    }

    /** The largest shift (over both axes) that maps {@code plain} onto {@code shifted}, flipped or not; -1 when none does. */
    static int shift(Image plain, Image shifted, float zero) {
        int h = plain.height(), w = plain.width();
        int best = -1;
        for (int flip = 0; flip < 2; flip++)
            for (int dy = -4; dy <= 4; dy++)
                for (int dx = -4; dx <= 4; dx++) {
                    boolean ok = true;
                    for (int y = 0; y < h && ok; y++)
                        for (int x = 0; x < w && ok; x++) {
                            int sy = y + dy, sx = x + dx;
                            if (flip == 1) sx = w - 1 - sx;
                            float want = sy < 0 || sy >= h || sx < 0 || sx >= w ? zero : plain.get(0, sy, sx);
                            ok = Math.abs(shifted.get(0, y, x) - want) < 1e-6f;
                        }
                    int m = Math.max(Math.abs(dy), Math.abs(dx));
                    if (ok && (best < 0 || m < best)) best = m;
                }
        return best;
    }

    @Test
    void cropsStayWithinTheirPaddingAndTheDefaultIsFour() {
        RunConfig none = run().build(), two = run().augment(true).cropPadding(2).build(), four = run().augment(true).build();
        assertThat(four.cropPadding()).isEqualTo(4);
        var plainData = VisionRecipe.openData(none, null, false);
        // the padding is zeros before normalisation: -mean / std after it
        float zero = -plainData.spec().mean()[0] / plainData.spec().std()[0];
        int maxTwo = 0, maxFour = 0;
        for (int i = 0; i < 40; i++) {
            Image plain = plainData.train().get(i).image();
            int s2 = shift(plain, train(two, i), zero), s4 = shift(plain, train(four, i), zero);
            assertThat(s2).as("image %d with --crop-padding 2", i).isBetween(0, 2);
            assertThat(s4).as("image %d with --crop-padding 4", i).isBetween(0, 4);
            maxTwo = Math.max(maxTwo, s2);
            maxFour = Math.max(maxFour, s4);
        }
        assertThat(maxTwo).isEqualTo(2);
        assertThat(maxFour).isGreaterThan(2);
    }

    @Test
    void randomErasingReplacesOneRectangleOfTheNormalisedImage() {
        RunConfig none = run().build(), erased = run().randomErasing(1).build();
        var plainData = VisionRecipe.openData(none, null, false);
        int changed = 0;
        for (int i = 0; i < 40; i++) {
            Image plain = plainData.train().get(i).image(), out = train(erased, i);
            int h = plain.height(), w = plain.width(), top = h, left = w, bottom = -1, right = -1, diff = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    if (plain.get(0, y, x) != out.get(0, y, x)) {
                        diff++;
                        top = Math.min(top, y);
                        left = Math.min(left, x);
                        bottom = Math.max(bottom, y);
                        right = Math.max(right, x);
                    }
            if (diff == 0) continue; // 8 x 8 images: no rectangle may fit in 10 draws
            changed++;
            int box = (bottom - top + 1) * (right - left + 1);
            assertThat(diff).as("image %d: changed pixels inside their bounding box", i).isBetween(box - 1, box);
            assertThat(box).as("image %d: at most 1/3 of 64 pixels after rounding", i).isLessThanOrEqualTo(36);
        }
        assertThat(changed).isGreaterThan(30);
    }

    @Test
    void badValuesNameTheOption() {
        assertThatThrownBy(() -> run().cropPadding(-1).build()).hasMessageContaining("--crop-padding must be >= 1, got -1");
        assertThatThrownBy(() -> run().randomErasing(1.5).build()).hasMessageContaining("--random-erasing must be in [0, 1], got 1.5");
    }
}
