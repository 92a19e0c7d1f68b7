package io.github.transformers4j.data.vision.transforms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.transforms.RandomErasing.Fill;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RandomErasingTest {
    /** A 2-channel 28 x 28 image of 7s: a ZERO-filled rectangle shows as the zeros. */
    static Image sevens(int c, int h, int w) {
        float[] px = new float[c * h * w];
        Arrays.fill(px, 7f);
        return new Image(px, c, h, w);
    }

    /** {top, left, height, width} of the zeros of channel 0, checking they form one rectangle repeated on every channel. */
    static int[] zeroBox(Image im) {
        int c = im.channels(), h = im.height(), w = im.width();
        int top = h, left = w, bottom = -1, right = -1, zeros = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (im.get(0, y, x) == 0f) {
                    zeros++;
                    top = Math.min(top, y);
                    left = Math.min(left, x);
                    bottom = Math.max(bottom, y);
                    right = Math.max(right, x);
                }
        if (zeros == 0) return null;
        assertThat(zeros).as("zeros form a filled rectangle").isEqualTo((bottom - top + 1) * (right - left + 1));
        for (int ch = 1; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) assertThat(im.get(ch, y, x)).isEqualTo(im.get(0, y, x));
        return new int[] {top, left, bottom - top + 1, right - left + 1};
    }

    @Test
    void eraseFillsExactlyTheRectangleOnEveryChannel() {
        Image in = sevens(2, 5, 6);
        Image out = RandomErasing.erase(in, 1, 2, 3, 2, Fill.ZERO, new SampleRng(0));
        assertThat(zeroBox(out)).containsExactly(1, 2, 3, 2);
        long sevens = 0;
        for (float v : out.pixels()) if (v == 7f) sevens++;
        assertThat(sevens).isEqualTo(2 * (30 - 6));
        assertThat(in.pixels()).containsOnly(7f); // the input is not changed
        assertThatThrownBy(() -> RandomErasing.erase(in, 3, 0, 3, 1, Fill.ZERO, new SampleRng(0)))
                .hasMessageContaining("outside");
    }

    @Test
    void probabilityZeroKeepsTheImageAndOneErasesEveryImage() {
        Image in = sevens(1, 28, 28);
        assertThat(new RandomErasing(0).apply(in, new SampleRng(3))).isSameAs(in);
        RandomErasing always = new RandomErasing(1, 0.02, 1 / 3.0, 0.3, 3.3, Fill.ZERO);
        for (int i = 0; i < 500; i++) assertThat(zeroBox(always.apply(in, SampleRng.of(1, 0, i)))).isNotNull();
    }

    @Test
    void aboutAQuarterOfTheImagesAreErasedWithPointTwoFive() {
        Image in = sevens(1, 28, 28);
        RandomErasing re = new RandomErasing(0.25, 0.02, 1 / 3.0, 0.3, 3.3, Fill.ZERO);
        int erased = 0, n = 4000;
        for (int i = 0; i < n; i++) if (re.apply(in, SampleRng.of(2, 0, i)) != in) erased++;
        assertThat(erased).isBetween(900, 1100); // 1000 expected, sd 27
    }

    @Test
    void rectanglesFollowTheAreaAndAspectRanges() {
        int h = 28, w = 28, n = 4000;
        RandomErasing re = new RandomErasing(1, 0.02, 1 / 3.0, 0.3, 3.3, Fill.ZERO);
        Image in = sevens(1, h, w);
        double sumArea = 0, minAspect = Double.MAX_VALUE, maxAspect = 0;
        boolean touchedLeft = false, touchedRight = false;
        for (int i = 0; i < n; i++) {
            int[] b = zeroBox(re.apply(in, SampleRng.of(4, 0, i)));
            double area = (double) b[2] * b[3] / (h * w);
            // rounding each side of sqrt(area * H * W * aspect) moves the area by about one row or column
            assertThat(area).isBetween(0.02 - 2 * 28.5 / 784, 1 / 3.0 + 2 * 28.5 / 784);
            assertThat(b[2]).isLessThan(h);
            assertThat(b[3]).isLessThan(w);
            sumArea += area;
            minAspect = Math.min(minAspect, (double) b[2] / b[3]);
            maxAspect = Math.max(maxAspect, (double) b[2] / b[3]);
            touchedLeft |= b[1] == 0;
            touchedRight |= b[1] + b[3] == w;
        }
        // E[area] = (0.02 + 1/3) / 2 = 0.177 before rounding and rejection (large areas with long sides are rejected more)
        assertThat(sumArea / n).isBetween(0.14, 0.19);
        assertThat(minAspect).isBetween(0.2, 0.45);
        assertThat(maxAspect).isBetween(2.5, 4.5);
        assertThat(touchedLeft && touchedRight).as("corners reach both edges").isTrue();
    }

    @Test
    void normalFillIsStandardNoiseAndTheDrawIsReproducible() {
        Image in = sevens(3, 28, 28);
        RandomErasing re = new RandomErasing(1);
        double sum = 0, sq = 0;
        long count = 0;
        for (int i = 0; i < 300; i++) {
            Image out = re.apply(in, SampleRng.of(5, 1, i));
            assertThat(out.pixels()).isEqualTo(re.apply(in, SampleRng.of(5, 1, i)).pixels());
            for (float v : out.pixels()) {
                if (v == 7f) continue;
                sum += v;
                sq += (double) v * v;
                count++;
            }
        }
        double mean = sum / count, var = sq / count - mean * mean;
        assertThat(count).isGreaterThan(100_000);
        assertThat(mean).isBetween(-0.02, 0.02);
        assertThat(var).isBetween(0.97, 1.03);
    }

    @Test
    void badArgumentsAreRefusedWithTheirValues() {
        assertThatThrownBy(() -> new RandomErasing(1.5)).hasMessageContaining("p must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> new RandomErasing(0.5, 0.4, 0.2, 0.3, 3.3, Fill.ZERO)).hasMessageContaining("[0.4, 0.2]");
        assertThatThrownBy(() -> new RandomErasing(0.5, 0.02, 0.3, 0, 3.3, Fill.ZERO)).hasMessageContaining("ratio");
        assertThatThrownBy(() -> new RandomErasing(0.5, 0.02, 0.3, 0.3, 3.3, null)).hasMessageContaining("fill");
    }
}
