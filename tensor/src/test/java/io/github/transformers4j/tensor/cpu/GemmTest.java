package io.github.transformers4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GemmTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /**
     * A batch of rows x cols matrices in a segment: element (b, i, j) at off + b*bs + i*rs + j*cs, laid out
     * row-major or transposed, with a gap of {@code pad} elements after each row (or column).
     */
    record Mat(MemorySegment seg, long off, long bs, long rs, long cs, int batch, int rows, int cols, boolean dbl) {
        double get(int b, int i, int j) {
            long at = off + b * bs + i * rs + j * cs;
            return dbl ? seg.getAtIndex(JAVA_DOUBLE, at) : seg.getAtIndex(JAVA_FLOAT, at);
        }

        void set(int b, int i, int j, double v) {
            long at = off + b * bs + i * rs + j * cs;
            if (dbl) seg.setAtIndex(JAVA_DOUBLE, at, v);
            else seg.setAtIndex(JAVA_FLOAT, at, (float) v);
        }
    }

    /** Random matrices; {@code broadcast} gives batch stride 0 (one matrix shared by all batch items). */
    private Mat mat(Random rng, int batch, int rows, int cols, boolean transposed, long off, int pad,
            boolean broadcast, boolean dbl) {
        return mat(rng, batch, rows, cols, transposed, off, pad, broadcast ? -1 : 3, dbl);
    }

    /** As above with {@code gap} elements between batch items (-1: broadcast, batch stride 0). */
    private Mat mat(Random rng, int batch, int rows, int cols, boolean transposed, long off, int pad, int gap, boolean dbl) {
        boolean broadcast = gap < 0;
        long lead = (transposed ? rows : cols) + pad;
        long rs = transposed ? 1 : lead, cs = transposed ? lead : 1;
        long one = lead * (transposed ? cols : rows);
        long bs = broadcast ? 0 : one + gap;
        long elems = off + (broadcast ? one : bs * batch) + 8;
        MemorySegment seg = arena.allocate(elems * (dbl ? 8 : 4), 64);
        for (long e = 0; e < elems; e++) { // fill everything, gaps included, so stray reads show up
            if (dbl) seg.setAtIndex(JAVA_DOUBLE, e, rng.nextGaussian());
            else seg.setAtIndex(JAVA_FLOAT, e, (float) rng.nextGaussian());
        }
        return new Mat(seg, off, bs, rs, cs, batch, rows, cols, dbl);
    }

    /** C in the layout Gemm writes: rows ldc = n + pad apart; filled with a sentinel or random values. */
    private Mat out(Random rng, int batch, int m, int n, long off, int pad, boolean dbl, boolean random) {
        Mat c = mat(rng, batch, m, n, false, off, pad, false, dbl);
        if (!random) {
            for (long e = 0; e < c.seg.byteSize() / (dbl ? 8 : 4); e++) {
                if (dbl) c.seg.setAtIndex(JAVA_DOUBLE, e, 777.0);
                else c.seg.setAtIndex(JAVA_FLOAT, e, 777f);
            }
        }
        return c;
    }

    private static void gemm(Mat a, Mat b, Mat c, int batch, boolean accumulate) {
        int m = a.rows, k = a.cols, n = b.cols;
        if (a.dbl) {
            Gemm.dgemm(batch, m, n, k, a.seg, a.off, a.bs, a.rs, a.cs, b.seg, b.off, b.bs, b.rs, b.cs,
                    c.seg, c.off, c.bs, c.rs, accumulate);
        } else {
            Gemm.sgemm(batch, m, n, k, a.seg, a.off, a.bs, a.rs, a.cs, b.seg, b.off, b.bs, b.rs, b.cs,
                    c.seg, c.off, c.bs, c.rs, accumulate);
        }
    }

    private static double[] copy(Mat c) {
        double[] v = new double[(int) (c.seg.byteSize() / (c.dbl ? 8 : 4))];
        for (int e = 0; e < v.length; e++) v[e] = c.dbl ? c.seg.getAtIndex(JAVA_DOUBLE, e) : c.seg.getAtIndex(JAVA_FLOAT, e);
        return v;
    }

    /**
     * Checks C against a float64 triple loop: per element within the worst-case rounding bound of a length-k
     * float (or double) dot product, the Frobenius relative error well below that, and every element outside
     * the batch x m x n result unchanged.
     */
    private static void check(Mat a, Mat b, Mat c, double[] before, int batch, boolean accumulate) {
        int m = a.rows, k = a.cols, n = b.cols;
        double unit = a.dbl ? 0x1p-53 : 0x1p-24;
        double errSq = 0, refSq = 0;
        boolean[] written = new boolean[before.length];
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    long at = c.off + bi * c.bs + i * c.rs + j;
                    double ref = accumulate ? before[(int) at] : 0, mag = Math.abs(ref);
                    for (int p = 0; p < k; p++) {
                        double x = a.get(bi, i, p) * b.get(bi, p, j);
                        ref += x;
                        mag += Math.abs(x);
                    }
                    double got = c.get(bi, i, j), err = Math.abs(got - ref);
                    double bound = 1.01 * (k + 2) * unit * mag + Double.MIN_NORMAL;
                    if (err > bound) {
                        throw new AssertionError("C[" + bi + ", " + i + ", " + j + "] = " + got + ", expected " + ref
                                + " (error " + err + " > bound " + bound + ") for " + m + "x" + k + " @ " + k + "x" + n);
                    }
                    errSq += err * err;
                    refSq += ref * ref;
                    written[(int) at] = true;
                }
            }
        }
        assertThat(Math.sqrt(errSq / Math.max(refSq, Double.MIN_NORMAL))).isLessThan(a.dbl ? 1e-14 : 2e-6);
        double[] after = copy(c);
        for (int e = 0; e < after.length; e++) {
            if (!written[e]) assertThat(after[e]).as("C element %d outside the result", e).isEqualTo(before[e]);
        }
    }

    private void run(long seed, int batch, int m, int n, int k, boolean ta, boolean tb, boolean dbl,
            boolean accumulate, long off, int pad, boolean broadcastA, boolean broadcastB) {
        Random rng = new Random(seed);
        Mat a = mat(rng, batch, m, k, ta, off, pad, broadcastA, dbl);
        Mat b = mat(rng, batch, k, n, tb, off + 1, pad, broadcastB, dbl);
        Mat c = out(rng, batch, m, n, off + 2, pad, dbl, accumulate);
        double[] before = copy(c);
        gemm(a, b, c, batch, accumulate);
        check(a, b, c, before, batch, accumulate);
    }

    static Stream<Arguments> shapes() {
        int[][] mnk = {{1, 1, 1}, {2, 3, 4}, {5, 1, 7}, {1, 40, 30}, {40, 1, 30}, {16, 16, 16}, {17, 33, 65},
            {127, 129, 3}, {12, 32, 1}, {13, 47, 19}, {65, 65, 64}, {65, 64, 65}, {100, 17, 300}, {193, 70, 257},
            {250, 513, 40}, {30, 600, 520}};
        List<Arguments> out = new ArrayList<>();
        for (int[] s : mnk) {
            for (int layout = 0; layout < 4; layout++) out.add(Arguments.of(s[0], s[1], s[2], (layout & 1) != 0, (layout & 2) != 0));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}x{2} @ {2}x{1} ta={3} tb={4}")
    @MethodSource("shapes")
    void floatMatchesTripleLoop(int m, int n, int k, boolean ta, boolean tb) {
        run(m * 31L + n * 7L + k, 1, m, n, k, ta, tb, false, false, 0, 0, false, false);
    }

    @ParameterizedTest(name = "{0}x{2} @ {2}x{1} ta={3} tb={4}")
    @MethodSource("shapes")
    void doubleMatchesTripleLoop(int m, int n, int k, boolean ta, boolean tb) {
        run(m * 31L + n * 7L + k, 1, m, n, k, ta, tb, true, false, 0, 0, false, false);
    }

    @Test
    void largeProductAcrossSeveralRowAndKBlocks() {
        run(1, 1, 400, 300, 700, false, false, false, false, 0, 0, false, false);
        run(2, 1, 400, 300, 700, true, true, false, true, 5, 3, false, false);
    }

    @Test
    void manyRowBlocksCopyTheirOwnA() {
        run(13, 1, 1500, 40, 530, false, false, false, false, 0, 0, false, false);
        run(14, 1, 1500, 40, 530, true, false, false, true, 0, 0, false, false);
    }

    @Test
    void bInSeveralPanelsMatchesTripleLoopAndColumnSlices() {
        // k * n exceeds the shared-panel cap, so B is packed in column panels; check sampled elements against
        // the triple loop, then columns 1900..2099 (across a panel edge) against a product of their own, bit for bit.
        Random rng = new Random(15);
        int m = 200, n = 2100, k = 2100;
        Mat a = mat(rng, 1, m, k, false, 0, 0, false, false), b = mat(rng, 1, k, n, false, 0, 0, false, false);
        Mat c = out(rng, 1, m, n, 0, 0, false, false);
        gemm(a, b, c, 1, false);
        for (int s = 0; s < 300; s++) {
            int i = rng.nextInt(m), j = s < 100 ? 1900 + rng.nextInt(200) : rng.nextInt(n);
            double ref = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                ref += a.get(0, i, p) * b.get(0, p, j);
                mag += Math.abs(a.get(0, i, p) * b.get(0, p, j));
            }
            assertThat(Math.abs(c.get(0, i, j) - ref)).as("C[%d, %d]", i, j).isLessThanOrEqualTo(1.01 * k * 0x1p-24 * mag);
        }
        MemorySegment slice = arena.allocate(4L * m * 200);
        Gemm.sgemm(1, m, 200, k, a.seg, 0, 0, a.rs, 1, b.seg, 1900, 0, b.rs, 1, slice, 0, 0, 200, false);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < 200; j++) {
                assertThat(slice.getAtIndex(JAVA_FLOAT, (long) i * 200 + j)).isEqualTo((float) c.get(0, i, 1900 + j));
            }
        }
    }

    @Test
    void accumulateOffsetsAndPaddedRows() {
        for (boolean dbl : new boolean[] {false, true}) {
            run(3, 1, 37, 45, 29, false, false, dbl, true, 11, 5, false, false);
            run(4, 1, 37, 45, 29, true, true, dbl, true, 3, 2, false, false);
            run(5, 1, 130, 70, 300, false, true, dbl, true, 7, 1, false, false);
        }
    }

    @Test
    void batchedWithBroadcastOperands() {
        for (boolean dbl : new boolean[] {false, true}) {
            run(6, 5, 65, 65, 64, false, true, dbl, false, 2, 0, false, false); // attention scores q @ k^T
            run(7, 7, 30, 20, 50, false, false, dbl, false, 0, 1, true, false);
            run(8, 7, 30, 20, 50, true, false, dbl, true, 4, 0, false, true);
            run(9, 3, 200, 40, 300, false, false, dbl, false, 0, 0, false, true); // shared-B path
            run(10, 2, 1, 50, 70, false, false, dbl, false, 0, 0, true, false);
        }
    }

    @Test
    void batchOfStackedRowsWithSharedB() { // x[B, T, C] @ W^T, computed as one product of B*T rows
        for (boolean dbl : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Random rng = new Random(16);
                int batch = 6, m = 29, n = 70, k = 45;
                Mat a = mat(rng, batch, m, k, false, 3, 0, 0, dbl), b = mat(rng, batch, k, n, tb, 1, 0, -1, dbl);
                Mat c = mat(rng, batch, m, n, false, 2, 0, 0, dbl);
                assertThat(a.bs).isEqualTo((long) m * a.rs);
                assertThat(c.bs).isEqualTo((long) m * c.rs);
                double[] before = copy(c);
                gemm(a, b, c, batch, true);
                check(a, b, c, before, batch, true);
            }
        }
    }

    @Test
    void sumOverABatchStackedAlongK() { // x[B, T, C]^T @ g[B, T, N] summed over B, computed as one product over B*T
        for (boolean dbl : new boolean[] {false, true}) {
            Random rng = new Random(17);
            int batch = 5, m = 40, n = 33, k = 65;
            Mat a = mat(rng, batch, m, k, true, 0, 0, 0, dbl), b = mat(rng, batch, k, n, false, 0, 0, 0, dbl);
            assertThat(a.bs).isEqualTo((long) k * a.cs);
            assertThat(b.bs).isEqualTo((long) k * b.rs);
            Mat c = out(rng, 1, m, n, 0, 0, dbl, false);
            if (dbl) {
                Gemm.dgemm(batch, m, n, k, a.seg, a.off, a.bs, a.rs, a.cs, b.seg, b.off, b.bs, b.rs, b.cs, c.seg, 0, 0, n, false);
            } else {
                Gemm.sgemm(batch, m, n, k, a.seg, a.off, a.bs, a.rs, a.cs, b.seg, b.off, b.bs, b.rs, b.cs, c.seg, 0, 0, n, false);
            }
            assertSummed(a, b, c, batch);
        }
    }

    /** C (one matrix) against the triple-loop sum of all batch products, within the rounding bound. */
    private static void assertSummed(Mat a, Mat b, Mat c, int batch) {
        int m = a.rows, k = a.cols, n = b.cols;
        double unit = a.dbl ? 0x1p-53 : 0x1p-24;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double ref = 0, mag = 0;
                for (int bi = 0; bi < batch; bi++) {
                    for (int p = 0; p < k; p++) {
                        ref += a.get(bi, i, p) * b.get(bi, p, j);
                        mag += Math.abs(a.get(bi, i, p) * b.get(bi, p, j));
                    }
                }
                assertThat(Math.abs(c.get(0, i, j) - ref)).as("C[%d, %d]", i, j)
                        .isLessThanOrEqualTo(1.01 * (batch * k + 2) * unit * mag + Double.MIN_NORMAL);
            }
        }
    }

    @Test
    void zeroBatchStrideForCSumsTheBatch() {
        Random rng = new Random(11);
        int batch = 4, m = 20, n = 36, k = 50;
        for (boolean dbl : new boolean[] {false, true}) {
            Mat a = mat(rng, batch, m, k, false, 0, 0, false, dbl), b = mat(rng, batch, k, n, true, 0, 0, false, dbl);
            Mat c = out(rng, 1, m, n, 0, 0, dbl, false);
            Gemm.sgemm(0, m, n, k, a.seg, 0, 0, 1, 1, b.seg, 0, 0, 1, 1, c.seg, 0, 0, n, false); // batch 0: no-op
            if (dbl) {
                Gemm.dgemm(batch, m, n, k, a.seg, a.off, a.bs, a.rs, a.cs, b.seg, b.off, b.bs, b.rs, b.cs, c.seg, 0, 0, n, false);
            } else {
                Gemm.sgemm(batch, m, n, k, a.seg, a.off, a.bs, a.rs, a.cs, b.seg, b.off, b.bs, b.rs, b.cs, c.seg, 0, 0, n, false);
            }
            assertSummed(a, b, c, batch);
        }
    }

    @Test
    void emptyKWritesZerosUnlessAccumulating() {
        Random rng = new Random(12);
        Mat a = mat(rng, 1, 3, 1, false, 0, 0, false, false), b = mat(rng, 1, 1, 4, false, 0, 0, false, false);
        Mat c = out(rng, 1, 3, 4, 0, 0, false, false);
        Gemm.sgemm(1, 3, 4, 0, a.seg, 0, 0, 1, 1, b.seg, 0, 0, 4, 1, c.seg, 0, 0, 4, true);
        assertThat(c.get(0, 2, 3)).isEqualTo(777.0);
        Gemm.sgemm(1, 3, 4, 0, a.seg, 0, 0, 1, 1, b.seg, 0, 0, 4, 1, c.seg, 0, 0, 4, false);
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) assertThat(c.get(0, i, j)).isZero();
    }

    @Test
    void rejectsBadLayoutsAndOutOfRangeOperands() {
        MemorySegment s = arena.allocate(4L * 100, 64);
        assertThatThrownBy(() -> Gemm.sgemm(1, 4, 4, 4, s, 0, 0, 8, 2, s, 0, 0, 4, 1, s, 0, 0, 4, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sgemm: A [4, 4]").hasMessageContaining("[8, 2]");
        assertThatThrownBy(() -> Gemm.dgemm(1, 4, 4, 4, s, 0, 0, 4, 1, s, 0, 0, 3, 3, s, 0, 0, 4, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dgemm: B [4, 4]");
        assertThatThrownBy(() -> Gemm.sgemm(1, 10, 10, 10, s, 1, 0, 10, 1, s, 0, 0, 10, 1, s, 0, 0, 10, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sgemm: A [1, 10, 10]")
                .hasMessageContaining("reaches element 100 but the segment holds 100");
        assertThatThrownBy(() -> Gemm.sgemm(1, 4, 4, 4, s, 0, 0, 4, 1, s, 0, 0, 4, 1, s, 0, 0, 3, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ldc 3 < n 4");
        assertThatThrownBy(() -> Gemm.sgemm(2, 3, 4, 2, s, 0, 0, 2, 1, s, 0, 0, 4, 1, s, 20, 8, 4, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("C batch stride 8 < 12");
    }

    // ---- determinism -----------------------------------------------------------------------------------------

    /** Fixed-seed inputs covering the shared-B path, the per-task path and ragged edges. */
    static float[] deterministicProduct(int batch, int m, int n, int k, boolean ta, boolean tb) {
        return deterministicProduct(batch, m, n, k, ta, tb, false);
    }

    /** A confined arena's segments cannot be read by pool threads: Gemm then computes on the caller alone. */
    static float[] deterministicProduct(int batch, int m, int n, int k, boolean ta, boolean tb, boolean confined) {
        try (Arena arena = confined ? Arena.ofConfined() : Arena.ofShared()) {
            Random rng = new Random(42);
            MemorySegment a = arena.allocate(4L * batch * m * k), b = arena.allocate(4L * batch * k * n);
            MemorySegment c = arena.allocate(4L * batch * m * n);
            for (long e = 0; e < (long) batch * m * k; e++) a.setAtIndex(JAVA_FLOAT, e, (float) rng.nextGaussian());
            for (long e = 0; e < (long) batch * k * n; e++) b.setAtIndex(JAVA_FLOAT, e, (float) rng.nextGaussian());
            Gemm.sgemm(batch, m, n, k, a, 0, (long) m * k, ta ? 1 : k, ta ? m : 1, b, 0, (long) k * n, tb ? 1 : n, tb ? k : 1,
                    c, 0, (long) m * n, n, false);
            return c.toArray(JAVA_FLOAT);
        }
    }

    /** Small (the child JVMs run them before the JIT has compiled anything) but through the shared-B path with
     * two K blocks and ragged edges, the K-block-at-a-time path (five K blocks), and the per-task path of a batch. */
    static final int[][] DETERMINISM_CASES = {{1, 200, 40, 520}, {1, 200, 40, 2100}, {5, 30, 20, 40}};

    static float[] allDeterminismCases() {
        List<float[]> parts = new ArrayList<>();
        for (int[] s : DETERMINISM_CASES) {
            parts.add(deterministicProduct(s[0], s[1], s[2], s[3], false, false));
            parts.add(deterministicProduct(s[0], s[1], s[2], s[3], true, true));
        }
        int total = parts.stream().mapToInt(p -> p.length).sum(), at = 0;
        float[] all = new float[total];
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /** Entry point of the child JVMs in {@link #sameBitsWithOneThreadAndWithNarrowVectors}. */
    public static void main(String[] args) throws IOException {
        try (var out = new DataOutputStream(Files.newOutputStream(Path.of(args[0])))) {
            for (float v : allDeterminismCases()) out.writeInt(Float.floatToRawIntBits(v));
        }
    }

    @Test
    void sameBitsAcrossRunsAndSubProducts() {
        float[] first = deterministicProduct(2, 250, 90, 513, false, true);
        assertThat(deterministicProduct(2, 250, 90, 513, false, true)).isEqualTo(first);
        assertThat(deterministicProduct(2, 250, 90, 513, false, true, true)).isEqualTo(first);
        // Rows 37..136 and columns 11..80 of batch item 1 as a product of their own (other tiles, other path).
        try (Arena arena = Arena.ofShared()) {
            Random rng = new Random(42);
            int batch = 2, m = 250, n = 90, k = 513;
            MemorySegment a = arena.allocate(4L * batch * m * k), b = arena.allocate(4L * batch * k * n);
            for (long e = 0; e < (long) batch * m * k; e++) a.setAtIndex(JAVA_FLOAT, e, (float) rng.nextGaussian());
            for (long e = 0; e < (long) batch * k * n; e++) b.setAtIndex(JAVA_FLOAT, e, (float) rng.nextGaussian());
            int i0 = 37, rows = 100, j0 = 11, cols = 70;
            MemorySegment c = arena.allocate(4L * rows * cols);
            Gemm.sgemm(1, rows, cols, k, a, (long) m * k + (long) i0 * k, 0, k, 1, b, (long) k * n + (long) j0 * k, 0, 1, k,
                    c, 0, 0, cols, false);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    float whole = first[m * n + (i0 + i) * n + j0 + j];
                    assertThat(Float.floatToRawIntBits(c.getAtIndex(JAVA_FLOAT, (long) i * cols + j)))
                            .as("C[1, %d, %d]", i0 + i, j0 + j).isEqualTo(Float.floatToRawIntBits(whole));
                }
            }
        }
    }

    /**
     * A long product (five K blocks: B packed one K block at a time for all tiles) gives the bits of a slice of its
     * rows computed on its own, which is too short for that path (each tile packs its own blocks of B).
     */
    @Test
    void longKProductHasTheBitsOfItsRowsOnTheirOwn() {
        try (Arena arena = Arena.ofShared()) {
            Random rng = new Random(7);
            int m = 300, n = 70, k = 2100, i0 = 50, rows = 100;
            MemorySegment a = arena.allocate(4L * k * m), b = arena.allocate(4L * k * n);
            for (long e = 0; e < (long) m * k; e++) a.setAtIndex(JAVA_FLOAT, e, (float) rng.nextGaussian());
            for (long e = 0; e < (long) k * n; e++) b.setAtIndex(JAVA_FLOAT, e, (float) rng.nextGaussian());
            MemorySegment whole = arena.allocate(4L * m * n), part = arena.allocate(4L * rows * n);
            // A transposed, as a weight gradient's: element (i, p) at p * m + i
            Gemm.sgemm(1, m, n, k, a, 0, 0, 1, m, b, 0, 0, n, 1, whole, 0, 0, n, false);
            Gemm.sgemm(1, rows, n, k, a, i0, 0, 1, m, b, 0, 0, n, 1, part, 0, 0, n, false);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < n; j++) {
                    assertThat(Float.floatToRawIntBits(part.getAtIndex(JAVA_FLOAT, (long) i * n + j))).as("C[%d, %d]", i0 + i, j)
                            .isEqualTo(Float.floatToRawIntBits(whole.getAtIndex(JAVA_FLOAT, (long) (i0 + i) * n + j)));
                }
            }
        }
    }

    @Test
    void sameBitsWithOneThreadAndWithNarrowVectors(@TempDir Path dir) throws Exception {
        float[] here = allDeterminismCases();
        List<List<String>> variants = new ArrayList<>();
        variants.add(List.of("-Dt4j.threads=1"));
        variants.add(List.of("-Dt4j.threads=3"));
        if (System.getProperty("os.arch").matches("amd64|x86_64")) variants.add(List.of("-XX:UseAVX=2")); // 256-bit species
        for (List<String> flags : variants) {
            Path file = dir.resolve("c.bin");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path")));
            cmd.addAll(flags);
            cmd.addAll(List.of(GemmTest.class.getName(), file.toString()));
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(proc.getInputStream().readAllBytes());
            assertThat(proc.waitFor()).as("child JVM %s failed:%n%s", flags, log).isZero();
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.BIG_ENDIAN);
            assertThat(bytes.remaining()).isEqualTo(4 * here.length);
            for (int e = 0; e < here.length; e++) {
                int bits = bytes.getInt();
                if (bits != Float.floatToRawIntBits(here[e])) {
                    throw new AssertionError("element " + e + " differs with " + flags + ": " + Float.intBitsToFloat(bits)
                            + " vs " + here[e]);
                }
            }
        }
    }
}
