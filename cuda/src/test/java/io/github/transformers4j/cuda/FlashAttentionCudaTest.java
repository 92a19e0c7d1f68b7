package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Flash attention (attention.cu, taken by {@link NnOps#multiHeadAttention} and {@link NnOps#scaledDotProductAttention}
 * under bf16 autocast) against the fp32 composite path on the GPU (autocast off), both fed the same bf16-rounded
 * inputs and output gradient, so that the kernel's own rounding of q, k, v, dout is exact.
 *
 * <p>Tolerance: the flash kernel still rounds the weights P (and dS, P^T Z in the backward) to bf16 before their
 * products, a relative error of at most 2^-9 = 2e-3 per element, uncorrelated between elements, with fp32
 * accumulation. Norm-wise relative errors come out near 1e-3; {@value #TOL} leaves a margin while a wrong index, a
 * wrong mask or a wrong dropout decision gives errors of order 1e-1 to 1.
 */
@Tag("cuda")
class FlashAttentionCudaTest {
    static final Device GPU = Device.cuda(0);
    static final double TOL = 1e-2;

    @org.junit.jupiter.api.BeforeAll
    static void enableFlash() { // on whatever T4J_CUDA_FLASH_ATTENTION says (CudaBackend.flashAttentionEnabled)
        System.setProperty("t4j.cuda.flashAttention", "true");
        System.setProperty("t4j.cuda.flashCausal", "true"); // whatever T4J_CUDA_FLASH_CAUSAL says
        System.setProperty("t4j.cuda.cudnnAttention", "false"); // the own kernels here; cuDNN's: CudnnAttentionCudaTest
    }

    @org.junit.jupiter.api.AfterAll
    static void restore() {
        System.clearProperty("t4j.cuda.flashAttention");
        System.clearProperty("t4j.cuda.flashCausal");
        System.clearProperty("t4j.cuda.cudnnAttention");
    }

    /** Values rounded to bf16, stored in fp32. */
    private static Tensor bf16(Tensor x) {
        return x.to(DType.BF16).to(DType.F32);
    }

    private static Tensor randn(long seed, int... shape) {
        return bf16(Tensor.randn(new Random4j(seed), shape));
    }

    /** ||a - b|| / ||b|| on the CPU, every element of a finite. */
    private static double normRel(Tensor a, Tensor b) {
        assertThat(a.shape()).isEqualTo(b.shape());
        return GpuTests.normRel(a, b);
    }

    /** The Euclidean norm of all elements. */
    private static double norm(Tensor a) {
        double s = 0;
        for (float v : a.toFloatArray()) s += v * (double) v;
        return Math.sqrt(s);
    }

    /** Output and input gradients (on the CPU) of one multiHeadAttention call and backward on the GPU. */
    private record Run(Tensor out, Tensor dq, Tensor dkv, long forwardLaunches) {}

    private static Run mha(Tensor q, Tensor kv, int heads, Tensor masked, double p, long seed, Tensor g, boolean flash) {
        return mha(q, kv, heads, masked, p, seed, g, flash, false);
    }

    private static Run mha(Tensor q, Tensor kv, int heads, Tensor masked, double p, long seed, Tensor g, boolean flash, boolean causal) {
        Tensor qg = q.to(GPU).requiresGrad(true), kvg = kv == null ? null : kv.to(GPU).requiresGrad(true);
        Tensor m = masked == null ? null : masked.to(GPU), gg = g.to(GPU);
        Random4j rng = new Random4j(seed);
        Tensor out;
        long before = CudaFunction.launches();
        try (var ac = Autocast.enable(flash ? DType.BF16 : null)) {
            out = NnOps.multiHeadAttention(qg, kvg, heads, m, null, 0.3, p, rng, causal);
        }
        long launches = CudaFunction.launches() - before;
        out.backward(gg);
        return new Run(f32(out), f32(qg.grad()), kvg == null ? null : f32(kvg.grad()), launches);
    }

    /** x on the CPU as fp32. */
    private static Tensor f32(Tensor x) {
        return x.to(Device.CPU).to(DType.F32);
    }

    /** Flash against the fp32 composite; the flash forward is one kernel launch (no repacking copies). */
    private static Run compare(String what, Tensor q, Tensor kv, int heads, Tensor masked, double p, Tensor g) {
        return compare(what, q, kv, heads, masked, p, g, false);
    }

    private static Run compare(String what, Tensor q, Tensor kv, int heads, Tensor masked, double p, Tensor g, boolean causal) {
        Run f = mha(q, kv, heads, masked, p, 5, g, true, causal), c = mha(q, kv, heads, masked, p, 5, g, false, causal);
        check(what, f, c, kv, g);
        // bf16 inputs, as autocast's projections: the kernels copy their tiles with cp.async (fp32 ones through registers)
        Run b = mha(q.to(DType.BF16), kv == null ? null : kv.to(DType.BF16), heads, masked, p, 5, g.to(DType.BF16), true, causal);
        check(what + ", bf16 inputs", b, c, kv, g);
        return f;
    }

    private static void check(String what, Run f, Run c, Tensor kv, Tensor g) {
        assertThat(f.forwardLaunches()).as("%s: flash forward launches", what).isEqualTo(1);
        assertThat(normRel(f.out(), c.out())).as("%s: out", what).isLessThan(TOL);
        // With one key the softmax is constantly 1 and d(q) is exactly 0 (dS = P (dP - D) = 0): the composite gives ~0 and a
        // relative error would divide rounding noise by zero; then flash's d(q) must be negligible beside the upstream gradient
        if (kv != null && kv.size(1) == 1) assertThat(norm(f.dq()) / norm(g)).as("%s: |d(q)| / |dout|", what).isLessThan(TOL);
        else assertThat(normRel(f.dq(), c.dq())).as("%s: d(q or packed qkv)", what).isLessThan(TOL);
        if (kv != null) assertThat(normRel(f.dkv(), c.dkv())).as("%s: dkv", what).isLessThan(TOL);
    }

    @Test
    void selfAttentionMatchesTheFp32CompositeForEveryHeadDimAndLength() {
        assertThat(Backends.of(GPU).kernel(NnOps.FLASH_ATTENTION, DType.BF16)).isPresent();
        int b = 2, h = 3;
        for (int e : new int[] {32, 64, 128}) {
            for (int l : new int[] {1, 7, 65, 257}) {
                Tensor qkv = randn(10 + l, b, l, 3 * h * e), g = randn(20 + l, b, l, h * e);
                compare("E " + e + ", L " + l, qkv, null, h, null, 0, g);
            }
        }
    }

    @Test
    void bf16ActivationsAreReadAndWrittenAsTheyAre() {
        // bf16 autocast's projections are bf16 tensors: flash reads them in place and writes bf16 out and gradients
        int b = 3, h = 4, e = 64;
        for (int[] c : new int[][] {{65, 65}, {64, 512}, {257, 257}}) {
            int lq = c[0], lk = c[1];
            boolean self = lq == lk;
            Tensor q = randn(40, b, lq, (self ? 3 : 1) * h * e), kv = self ? null : randn(41, b, lk, 2 * h * e), g = randn(42, b, lq, h * e);
            Tensor qg = q.to(DType.BF16).to(GPU).requiresGrad(true), kvg = kv == null ? null : kv.to(DType.BF16).to(GPU).requiresGrad(true);
            Tensor out;
            long before = CudaFunction.launches();
            try (var ac = Autocast.enable(DType.BF16)) {
                out = NnOps.multiHeadAttention(qg, kvg, h, null, null, 0.125, 0.1, new Random4j(7));
            }
            assertThat(CudaFunction.launches() - before).as("one launch, no conversion").isEqualTo(1);
            assertThat(out.dtype()).isEqualTo(DType.BF16);
            out.backward(g.to(DType.BF16).to(GPU));
            assertThat(qg.grad().dtype()).isEqualTo(DType.BF16);
            Run f32 = mhaScaled(q, kv, h, g, 0.125, 0.1, 7, true);
            String what = "bf16 io, Lq " + lq + ", Lk " + lk;
            assertThat(normRel(out.to(Device.CPU).to(DType.F32), f32.out())).as("%s: out", what).isLessThan(TOL);
            assertThat(normRel(qg.grad().to(Device.CPU).to(DType.F32), f32.dq())).as("%s: dq", what).isLessThan(TOL);
            if (kv != null) assertThat(normRel(kvg.grad().to(Device.CPU).to(DType.F32), f32.dkv())).as("%s: dkv", what).isLessThan(TOL);
        }
    }

    /** As {@link #mha} with a given scale: fp32 inputs through the flash kernel (flash = true) or the composite. */
    private static Run mhaScaled(Tensor q, Tensor kv, int heads, Tensor g, double scale, double p, long seed, boolean flash) {
        Tensor qg = q.to(GPU).requiresGrad(true), kvg = kv == null ? null : kv.to(GPU).requiresGrad(true);
        Tensor out;
        try (var ac = Autocast.enable(flash ? DType.BF16 : null)) {
            out = NnOps.multiHeadAttention(qg, kvg, heads, null, null, scale, p, new Random4j(seed));
        }
        out.backward(g.to(GPU));
        return new Run(out.to(Device.CPU), qg.grad().to(Device.CPU), kvg == null ? null : kvg.grad().to(Device.CPU), 0);
    }

    @Test
    void theVitWorkloadShape() {
        Tensor qkv = randn(1, 128, 65, 3 * 4 * 64), g = randn(2, 128, 65, 4 * 64);
        compare("B 128, H 4, E 64, L 65", qkv, null, 4, null, 0, g);
    }

    @Test
    void crossAttentionWithLqDifferentFromLk() {
        int b = 2, h = 2;
        for (int[] c : new int[][] {{7, 65, 64}, {65, 7, 64}, {257, 1, 32}, {1, 257, 128}, {100, 300, 64}, {130, 66, 128}}) {
            int lq = c[0], lk = c[1], e = c[2];
            Tensor q = randn(30, b, lq, h * e), kv = randn(31, b, lk, 2 * h * e), g = randn(32, b, lq, h * e);
            compare("Lq " + lq + ", Lk " + lk + ", E " + e, q, kv, h, null, 0, g);
        }
    }

    @Test
    void keyPaddingMaskWithAFullyMaskedBatchGivesZerosNotNaN() {
        int b = 3, l = 65, h = 2, e = 64;
        boolean[] pad = new boolean[b * l];
        for (int j = 60; j < l; j++) pad[j] = true;     // batch 0: 5 padded keys
        for (int j = 0; j < l; j++) pad[l + j] = true;  // batch 1: every key padded
        for (int j = 0; j < 3; j++) pad[2 * l + j] = true;
        Tensor kpm = Tensor.ofBooleans(pad, b, l).view(b, 1, 1, l);
        Tensor qkv = randn(40, b, l, 3 * h * e), g = randn(41, b, l, h * e);
        Run f = compare("key padding", qkv, null, h, kpm, 0, g);
        for (float v : f.out().select(0, 1).toFloatArray()) assertThat(v).isZero();
        for (float v : f.dq().select(0, 1).toFloatArray()) assertThat(v).isZero(); // dq, dk, dv of the masked batch
        // cross-attention with padded keys
        Tensor q = randn(42, b, 9, h * e), kv = randn(43, b, l, 2 * h * e), gq = randn(44, b, 9, h * e);
        compare("key padding, cross", q, kv, h, kpm, 0, gq);
    }

    @Test
    void causalAndGeneralMasksWithAFullyMaskedRow() {
        int b = 2, h = 2, e = 64;
        for (int l : new int[] {65, 130}) {
            Tensor causal = Tensor.arange(l).view(1, l).gt(Tensor.arange(l).view(l, 1)); // (L, L), as F.causalMask
            Tensor qkv = randn(50 + l, b, l, 3 * h * e), g = randn(60 + l, b, l, h * e);
            compare("causal, L " + l, qkv, null, h, causal, 0, g);
            boolean[] m = new boolean[b * l * l];
            java.util.Random r = new java.util.Random(l);
            for (int i = 0; i < m.length; i++) m[i] = r.nextDouble() < 0.3;
            for (int j = 0; j < l; j++) m[3 * l + j] = true; // batch 0, query 3: no allowed key
            Tensor general = Tensor.ofBooleans(m, b, 1, l, l);
            Run f = compare("general (B, 1, L, L), L " + l, qkv, null, h, general, 0, g);
            for (int c = 0; c < h * e; c++) assertThat(f.out().get(0, 3, c)).isZero();
        }
    }

    /** Causal as a flag (tiles above the diagonal skipped, no mask read) against the composite with the causal mask. */
    @Test
    void causalAsAFlagMatchesTheCompositeWithTheCausalMask() {
        assertThat(Backends.of(GPU).kernel(NnOps.FLASH_ATTENTION, DType.BF16).orElseThrow().supportsCausal()).isTrue();
        int b = 2, h = 2;
        for (int e : new int[] {32, 64, 128}) {
            for (int l : new int[] {1, 17, 65, 130, 257}) {
                Tensor qkv = randn(80 + l, b, l, 3 * h * e), g = randn(90 + l, b, l, h * e);
                compare("causal flag, E " + e + ", L " + l, qkv, null, h, null, 0, g, true);
            }
        }
        int e = 64;
        for (int[] c : new int[][] {{65, 130}, {130, 65}, {7, 200}}) { // top-left aligned, as PyTorch's is_causal
            Tensor q = randn(100 + c[0], b, c[0], h * e), kv = randn(110 + c[1], b, c[1], 2 * h * e), g = randn(120, b, c[0], h * e);
            compare("causal flag, cross " + c[0] + " x " + c[1], q, kv, h, null, 0, g, true);
        }
        boolean[] pad = new boolean[b * 130];
        for (int j = 100; j < 130; j++) pad[130 + j] = true; // batch 1: 30 padded keys
        Tensor kpm = Tensor.ofBooleans(pad, b, 130).view(b, 1, 1, 130);
        Tensor qkv = randn(130, b, 130, 3 * h * e), g = randn(131, b, 130, h * e);
        compare("causal flag with key padding", qkv, null, h, kpm, 0, g, true);
        compare("causal flag with dropout", qkv, null, h, null, 0.2, g, true);
    }

    @Test
    void dropoutGradientsMatchTheCompositeWithTheSameStream() {
        int b = 2, h = 2, e = 64;
        Tensor qkv = randn(70, b, 65, 3 * h * e), g = randn(71, b, 65, h * e);
        compare("dropout, self", qkv, null, h, null, 0.2, g);
        Tensor q = randn(72, b, 7, h * e), kv = randn(73, b, 257, 2 * h * e), gq = randn(74, b, 7, h * e);
        compare("dropout, cross", q, kv, h, null, 0.2, gq);
        boolean[] pad = new boolean[b * 65];
        for (int j = 0; j < 65; j++) pad[65 + j] = true;
        compare("dropout, masked batch", qkv, null, h, Tensor.ofBooleans(pad, b, 65).view(b, 1, 1, 65), 0.2, g);
        // longer than a block (dk/dv and dq kernels, keep words staged with the tiles) with key padding (bits in shared
        // memory)
        Tensor kpm = keyPadding257();
        Tensor qkv2 = randn(75, b, 257, 3 * h * e), g2 = randn(76, b, 257, h * e);
        compare("dropout with key padding, L 257", qkv2, null, h, kpm, 0.2, g2);
        compare("key padding without dropout, L 257", qkv2, null, h, kpm, 0, g2);
        Tensor q3 = randn(77, b, 70, h * e), g3 = randn(78, b, 70, h * e);
        compare("dropout with key padding, cross 70 x 257", q3, randn(79, b, 257, 2 * h * e), h, kpm, 0.2, g3);
    }

    /** A key-padding mask (2, 1, 1, 257): batch 0 loses keys 100-199 (across tile boundaries), batch 1 its last 3. */
    private static Tensor keyPadding257() {
        boolean[] pad = new boolean[2 * 257];
        for (int j = 100; j < 200; j++) pad[j] = true;
        for (int j = 254; j < 257; j++) pad[257 + j] = true;
        return Tensor.ofBooleans(pad, 2, 257).view(2, 1, 1, 257);
    }

    /**
     * Two m-tiles of 16 queries per warp (flash_attn_fwd_m2_*, flash_attn_bwd_dq_m2_*; opt-in:
     * -Dt4j.cuda.flashTwoTiles=true) on the cases of the one-tile kernels that run longer than a block: odd lengths, a
     * last warp with one valid tile, masks, dropout, causal, cross-attention. (Named without the kernel's family so that the harness script does not read a failure
     * here as one of the default kernels.)
     */
    @Test
    void twoMTilesPerWarpMatchTheComposite() {
        String before = System.getProperty("t4j.cuda.flashTwoTiles");
        System.setProperty("t4j.cuda.flashTwoTiles", "true");
        try {
            int b = 2, h = 2;
            for (int e : new int[] {32, 64}) {
                for (int l : new int[] {129, 145, 257}) {
                    Tensor qkv = randn(200 + l, b, l, 3 * h * e), g = randn(210 + l, b, l, h * e);
                    compare("two tiles, E " + e + ", L " + l, qkv, null, h, null, 0, g);
                    compare("two tiles, causal, E " + e + ", L " + l, qkv, null, h, null, 0, g, true);
                }
            }
            int e = 64;
            Tensor kpm = keyPadding257();
            Tensor qkv = randn(230, b, 257, 3 * h * e), g = randn(231, b, 257, h * e);
            compare("two tiles, dropout with key padding", qkv, null, h, kpm, 0.2, g);
            compare("two tiles, dropout, causal", qkv, null, h, null, 0.2, g, true);
            Tensor q = randn(232, b, 300, h * e), kv = randn(233, b, 70, 2 * h * e), gq = randn(234, b, 300, h * e);
            compare("two tiles, cross 300 x 70", q, kv, h, null, 0.2, gq);
            boolean[] m = new boolean[b * 257 * 257];
            java.util.Random r = new java.util.Random(7);
            for (int i = 0; i < m.length; i++) m[i] = r.nextDouble() < 0.3;
            compare("two tiles, general mask", qkv, null, h, Tensor.ofBooleans(m, b, 1, 257, 257), 0, g);
        } finally {
            if (before == null) System.clearProperty("t4j.cuda.flashTwoTiles");
            else System.setProperty("t4j.cuda.flashTwoTiles", before);
        }
    }

    /**
     * The keep decisions one by one: with q = 0 every allowed weight is 1/Lk, and with v = one-hot rows (v[j] = e_j,
     * Lk <= E) out[i][j] = Z_ij / Lk / (1 - p), so out's zero pattern is the dropout mask; with dout = one-hot rows
     * (dout[i] = e_i, Lq <= E) dv[j][i] = Z_ij / Lk / (1 - p) shows the backward's (dk/dv kernel) decisions. Both
     * must equal the composite's pattern (dropout_f32 on the materialised weights) exactly. Odd Lk puts word 3 of a
     * Philox block at the end of a row; Lk = 127 and Lq = 70 cross tile boundaries.
     */
    @Test
    void dropoutKeepDecisionsAreTheCompositesOneByOne() {
        int b = 2, h = 2;
        for (int[] c : new int[][] {{61, 61, 64}, {70, 127, 128}, {33, 31, 64}}) {
            int lq = c[0], lk = c[1], e = c[2];
            float[] kvData = new float[b * lk * 2 * h * e];
            for (int bi = 0; bi < b; bi++) {
                for (int j = 0; j < lk; j++) {
                    for (int hi = 0; hi < h; hi++) {
                        kvData[((bi * lk + j) * 2 + 1) * h * e + hi * e + j] = 1; // v (columns H*E..): one-hot j
                        kvData[((bi * lk + j) * 2) * h * e + hi * e + (j * 7) % e] = 0.5f; // k: anything
                    }
                }
            }
            float[] gData = new float[b * lq * h * e];
            for (int bi = 0; bi < b; bi++) for (int i = 0; i < lq; i++) for (int hi = 0; hi < h; hi++) gData[(bi * lq + i) * h * e + hi * e + (i % e)] = 1;
            Tensor q = Tensor.full(0, DType.F32, Device.CPU, b, lq, h * e), kv = Tensor.of(kvData, b, lk, 2 * h * e), g = Tensor.of(gData, b, lq, h * e);
            Run f = mha(q, kv, h, null, 0.3, 9, g, true), ref = mha(q, kv, h, null, 0.3, 9, g, false);
            String what = "Lq " + lq + ", Lk " + lk + ", E " + e;
            float[] fo = f.out().toFloatArray(), co = ref.out().toFloatArray();
            int dropped = 0;
            for (int i = 0; i < fo.length; i++) {
                assertThat(fo[i] == 0).as("%s: out element %d dropped", what, i).isEqualTo(co[i] == 0);
                if (co[i] == 0) dropped++;
            }
            assertThat(dropped).as("%s: some dropped", what).isGreaterThan(0);
            assertThat(normRel(f.out(), ref.out())).isLessThan(TOL);
            // dv is the second half of dkv's columns; dq exercises the dq kernel's decisions through dS
            float[] fd = f.dkv().toFloatArray(), cd = ref.dkv().toFloatArray();
            for (int i = 0; i < fd.length; i++) {
                if ((i / (h * e)) % 2 == 1 && (i % e) < lq) assertThat(fd[i] == 0).as("%s: dv element %d dropped", what, i).isEqualTo(cd[i] == 0);
            }
            assertThat(normRel(f.dkv(), ref.dkv())).as("%s: dkv", what).isLessThan(TOL);
            assertThat(normRel(f.dq(), ref.dq())).as("%s: dq", what).isLessThan(TOL);
        }
    }

    @Test
    void twoRunsAreBitIdentical() {
        int b = 3, h = 4, e = 64, l = 257;
        Tensor qkv = randn(80, b, l, 3 * h * e), g = randn(81, b, l, h * e);
        boolean[] pad = new boolean[b * l];
        for (int j = 200; j < l; j++) pad[j] = true;
        Tensor kpm = Tensor.ofBooleans(pad, b, l).view(b, 1, 1, l);
        Run r1 = mha(qkv, null, h, kpm, 0.1, 3, g, true), r2 = mha(qkv, null, h, kpm, 0.1, 3, g, true);
        assertThat(r1.out().toFloatArray()).containsExactly(r2.out().toFloatArray());
        assertThat(r1.dq().toFloatArray()).containsExactly(r2.dq().toFloatArray());
    }

    @Test
    void fourDimensionalAttentionReadsStridedAndMisalignedViews() {
        int b = 2, h = 3, lq = 40, lk = 50, e = 32;
        Tensor g = randn(93, b, h, lq, e);
        // (B, L, H, E) permuted to (B, H, L, E): read in place through the strides (aligned: float4 loads)
        Tensor[] bases = {randn(90, b, lq, h, e), randn(91, b, lk, h, e), randn(92, b, lk, h, e)};
        java.util.function.UnaryOperator<Tensor> permuted = x -> x.permute(0, 2, 1, 3);
        Tensor[] f = sdpa(bases, permuted, g, true), c = sdpa(bases, permuted, g, false);
        for (int i = 0; i < 4; i++) assertThat(normRel(f[i], c[i])).as("permuted, %d", i).isLessThan(TOL);
        // E = 32 columns at offset 1 of rows of 33: not 16-byte aligned (scalar loads and stores)
        Tensor[] wide = {randn(94, b, h, lq, e + 1), randn(95, b, h, lk, e + 1), randn(96, b, h, lk, e + 1)};
        java.util.function.UnaryOperator<Tensor> narrowed = x -> x.narrow(3, 1, e);
        f = sdpa(wide, narrowed, g, true);
        c = sdpa(wide, narrowed, g, false);
        for (int i = 0; i < 4; i++) assertThat(normRel(f[i], c[i])).as("misaligned, %d", i).isLessThan(TOL);
    }

    /**
     * {out, d base q, d base k, d base v} on the CPU of scaledDotProductAttention of view(base) for GPU copies of the
     * bases (the views are taken on the GPU, so the kernel sees their strides).
     */
    private static Tensor[] sdpa(Tensor[] bases, java.util.function.UnaryOperator<Tensor> view, Tensor g, boolean flash) {
        Tensor[] leaves = new Tensor[3];
        for (int i = 0; i < 3; i++) leaves[i] = bases[i].to(GPU).requiresGrad(true);
        Tensor out;
        try (var ac = Autocast.enable(flash ? DType.BF16 : null)) {
            out = NnOps.scaledDotProductAttention(view.apply(leaves[0]), view.apply(leaves[1]), view.apply(leaves[2]), null, null,
                    0.2, 0, null);
        }
        out.backward(g.to(GPU));
        return new Tensor[] {out.to(Device.CPU), leaves[0].grad().to(Device.CPU), leaves[1].grad().to(Device.CPU),
                leaves[2].grad().to(Device.CPU)};
    }

    @Test
    void unsupportedCasesAndTheSwitchRunTheCompositeBitForBit() {
        int b = 2, l = 9, h = 2;
        Tensor qkv16 = randn(100, b, l, 3 * h * 16), g16 = randn(101, b, l, h * 16);
        assertBitIdentical("head dim 16", qkv16, h, null, g16, 0);
        Tensor qkv = randn(102, b, l, 3 * h * 64), g = randn(103, b, l, h * 64);
        assertBitIdentical("additive mask", qkv, h, Tensor.randn(new Random4j(104), l, l), g, 0);
        assertBitIdentical("dropout 1", qkv, h, null, g, 1);
        System.setProperty("t4j.cuda.flashAttention", "false");
        try {
            assertThat(Backends.of(GPU).kernel(NnOps.FLASH_ATTENTION, DType.BF16)).isEmpty();
            assertBitIdentical("flash attention switched off", qkv, h, null, g, 0);
        } finally {
            System.setProperty("t4j.cuda.flashAttention", "true");
        }
    }

    private static void assertBitIdentical(String what, Tensor qkv, int heads, Tensor additive, Tensor g, double p) {
        Tensor[] r = new Tensor[4];
        for (int i = 0; i < 2; i++) {
            Tensor x = qkv.to(GPU).requiresGrad(true);
            Tensor out;
            try (var ac = Autocast.enable(i == 0 ? DType.BF16 : null)) {
                out = NnOps.multiHeadAttention(x, null, heads, null, additive == null ? null : additive.to(GPU), 0.3, p, new Random4j(1));
            }
            out.backward(g.to(GPU));
            r[2 * i] = out.to(Device.CPU);
            r[2 * i + 1] = x.grad().to(Device.CPU);
        }
        assertThat(r[0].toFloatArray()).as("%s: out", what).containsExactly(r[2].toFloatArray());
        assertThat(r[1].toFloatArray()).as("%s: grad", what).containsExactly(r[3].toFloatArray());
    }
}
