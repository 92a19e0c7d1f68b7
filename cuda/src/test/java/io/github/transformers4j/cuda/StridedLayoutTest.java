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
