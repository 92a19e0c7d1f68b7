package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StridedLayoutTest {
    @Test
    void contiguousTensorsCollapseToOneDim() {
        StridedLayout l = StridedLayout.of(new int[] {2, 3, 4}, new long[] {12, 4, 1}, new long[] {12, 4, 1});
        assertThat(l.shape()).containsExactly(24);
        assertThat(l.strides()[0]).containsExactly(1);
        assertThat(l.strides()[1]).containsExactly(1);
    }

    @Test
    void broadcastBiasKeepsTwoDims() {
        // out [6, 5] contiguous, bias [5] expanded with stride 0 over rows
        StridedLayout l = StridedLayout.of(new int[] {2, 3, 5}, new long[] {15, 5, 1}, new long[] {0, 0, 1});
        assertThat(l.shape()).containsExactly(6, 5);
        assertThat(l.strides()[0]).containsExactly(5, 1);
        assertThat(l.strides()[1]).containsExactly(0, 1);
    }

    @Test
    void sizeOneDimsDropAndScalarsBecomeOneElement() {
        StridedLayout l = StridedLayout.of(new int[] {1, 4, 1}, new long[] {99, 7, 3});
        assertThat(l.shape()).containsExactly(4);
        assertThat(l.strides()[0]).containsExactly(7);
        StridedLayout s = StridedLayout.of(new int[0], new long[0], new long[0]);
        assertThat(s.shape()).containsExactly(1);
        assertThat(s.numel()).isEqualTo(1);
    }

    @Test
    void headPermutationWidensToSixteenByteUnits() {
        // (B=2, L=3, H=4, E=8) floats read as (B, H, L, E) into a contiguous (B, H, L, E)
        StridedLayout l = StridedLayout.of(new int[] {2, 4, 3, 8}, new long[] {96, 8, 32, 1}, new long[] {96, 24, 8, 1});
        StridedLayout w = l.widened(4, 16, 0, 4096);
        assertThat(w.shape()).containsExactly(2, 4, 3, 2);
        assertThat(w.strides()[0]).containsExactly(24, 2, 8, 1);
        assertThat(w.strides()[1]).containsExactly(24, 6, 2, 1);
        assertThat(w.numel() * 4).isEqualTo(l.numel());
    }

    @Test
    void widenRefusesWhatDoesNotLineUp() {
        StridedLayout odd = StridedLayout.of(new int[] {3, 6}, new long[] {1, 3}, new long[] {6, 1}); // transposed source
        assertThat(odd.widened(4, 16, 0, 0)).isNull();
        StridedLayout rows = StridedLayout.of(new int[] {5, 6}, new long[] {12, 1}, new long[] {6, 1}); // 6 floats: not 16 B
        assertThat(rows.widened(4, 16, 0, 0)).isNull();
        StridedLayout ok = StridedLayout.of(new int[] {5, 8}, new long[] {12, 1}, new long[] {8, 1});
        assertThat(ok.widened(4, 16, 0, 0)).isNotNull();
        assertThat(ok.widened(4, 16, 4, 0)).as("misaligned base").isNull();
        StridedLayout pitch = StridedLayout.of(new int[] {5, 8}, new long[] {10, 1}, new long[] {8, 1}); // row pitch 40 B
        assertThat(pitch.widened(4, 16, 0, 0)).isNull();
    }

    @Test
    void transposeDoesNotMerge() {
        StridedLayout l = StridedLayout.of(new int[] {3, 4}, new long[] {1, 3}, new long[] {4, 1});
        assertThat(l.shape()).containsExactly(3, 4);
        long[] w = l.words();
        assertThat(w).hasSize(1 + 8 + 4 * 8);
        assertThat(w[0]).isEqualTo(2);
        assertThat(w[1]).isEqualTo(3);
        assertThat(w[2]).isEqualTo(4);
        assertThat(w[9]).isEqualTo(1);   // stride[0][0]
        assertThat(w[10]).isEqualTo(3);  // stride[0][1]
        assertThat(w[17]).isEqualTo(4);  // stride[1][0]
        assertThat(w[18]).isEqualTo(1);  // stride[1][1]
    }

    @Test
    void moreThanEightDimsAreSplitOverTheLeadingOnes() {
        // 10 dims of size 2 with strides that never merge (a reversed permutation)
        int[] shape = new int[10];
        long[] perm = new long[10], cont = new long[10];
        for (int d = 0; d < 10; d++) {
            shape[d] = 2;
            perm[d] = 1L << d;
            cont[d] = 1L << (9 - d);
        }
        StridedLayout l = StridedLayout.of(shape, perm, cont);
        assertThat(l.ndim()).isEqualTo(10);
        StridedLayout.Chunk[] chunks = l.chunks();
        assertThat(chunks).hasSize(4);
        assertThat(chunks[0].inner().ndim()).isEqualTo(8);
        // chunk c = (i0, i1) in row-major order: offsets i0 * stride[0] + i1 * stride[1]
        assertThat(chunks[1].offsets()).containsExactly(2, 256);
        assertThat(chunks[2].offsets()).containsExactly(1, 512);
        assertThat(chunks[3].offsets()).containsExactly(3, 768);
        long total = 0;
        for (var c : chunks) total += c.inner().numel();
        assertThat(total).isEqualTo(1024);
    }
}
