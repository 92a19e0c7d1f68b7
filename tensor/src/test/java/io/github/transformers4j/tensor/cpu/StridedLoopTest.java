package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The odometer walk over outer rows ({@link StridedLoop#start}, {@link StridedLoop#next}) against each row's offsets by division. */
class StridedLoopTest {
    @Test
    void walkingFromAnyRowGivesEveryRowsOffsets() {
        // a head split: (B, L, 3, H, E) read as (3, B, H, L, E), and a broadcast operand with stride 0
        int[] shape = {3, 5, 4, 7, 8};
        long[] src = {4 * 8, 7 * 3 * 4 * 8, 8, 3 * 4 * 8, 1}, dst = {5 * 4 * 7 * 8, 4 * 7 * 8, 7 * 8, 8, 1}, bcast = {0, 1, 0, 5, 0};
        StridedLoop loop = new StridedLoop(shape, src, dst, bcast);
        assertThat(loop.shape.length).isGreaterThan(2); // the walk has carries to make
        for (long from : new long[] {0, 1, 6, 27, loop.outer - 1}) {
            long[] walked = new long[3], divided = new long[3];
            int[] idx = new int[loop.shape.length];
            loop.start(from, walked, idx);
            for (long o = from; o < loop.outer; o++, loop.next(walked, idx)) {
                rowOffsets(loop, o, divided);
                assertThat(walked).as("row %d walked from row %d", o, from).isEqualTo(divided);
            }
        }
    }

    /** Every operand's offset at outer row o: the row's index along each outer dim (by division) times that dim's stride. */
    private static void rowOffsets(StridedLoop loop, long o, long[] out) {
        java.util.Arrays.fill(out, 0);
        for (int d = loop.shape.length - 2; d >= 0; d--) {
            long i = o % loop.shape[d];
            o /= loop.shape[d];
            for (int k = 0; k < out.length; k++) out[k] += i * loop.strides[k][d];
        }
    }

    /** A strided copy of short rows (the vector path) and of a transposed view (the scalar path) against get(). */
    @Test
    void stridedCopiesMoveEveryElement() {
        Tensor x = Tensor.randn(new Random4j(3), 6, 9, 3, 4, 40);
        for (Tensor view : new Tensor[] {x.permute(2, 0, 3, 1, 4), x.permute(4, 1, 0, 2, 3)}) {
            Tensor copy = view.contiguous();
            float[] got = copy.toFloatArray();
            int[] s = view.shape();
            int i = 0;
            for (int a = 0; a < s[0]; a++) for (int b = 0; b < s[1]; b++) for (int c = 0; c < s[2]; c++)
                for (int d = 0; d < s[3]; d++) for (int e = 0; e < s[4]; e++, i++)
                    assertThat(got[i]).isEqualTo((float) view.get(a, b, c, d, e));
        }
    }
}
