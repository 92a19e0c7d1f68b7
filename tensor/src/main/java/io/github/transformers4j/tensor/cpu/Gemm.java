package io.github.transformers4j.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched matrix products on the CPU: {@code C_b = A_b @ B_b} (or {@code C_b += A_b @ B_b}).
 *
 * <p>The float path follows BLIS: K is cut into blocks of {@link #KC}; for each block, a block of A is packed
 * into {@link #MR}-row slivers and a panel of B into {@link #NR}-column slivers (zero padded at the edges),
 * and a register-blocked micro-kernel (12 x 32 accumulators on AVX-512) multiplies one sliver pair with
 * {@code fma}. Work is split into tiles of C over batch x row blocks x column panels; B panels of one big
 * product are packed once and shared by all row blocks.
 *
 * <p>Determinism: every element of C is, for each K block in order, a sequential {@code fma} chain over that
 * block starting from zero, added to C block after block. How C is tiled, which kernel variant or thread
 * computes a tile, and the thread count do not change that sequence, so results are bit-identical across
 * thread counts and runs. Tiny products (and products with one or two rows) take a simple loop whose elements
 * are one {@code fma} chain over all of K. {@code dgemm} always uses that simple loop.
 *
 * <p>C must not overlap A or B. Segments confined to the calling thread are computed on that thread alone.
 */
public final class Gemm {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int FL = FS.length();
    private static final int DL = DS.length();

    /** Rows of the micro-kernel (A sliver height). */
    static final int MR = 12;
    /** Columns of the micro-kernel (B sliver width): two vectors. */
    static final int NR = 2 * FL;
    /** K block: fixed, because it decides each element's summation order. */
    static final int KC = 256;
    /** Rows of C per task (a multiple of MR); free to change, results do not depend on it. */
    static final int MC = 16 * MR;
    /** Widest column panel of a task that packs its own B block (kc x NC1 floats stay in L2). */
    static final int NC1 = 512 / NR * NR;
    /** Cap on the floats of one shared packed B panel (all of K). */
    private static final long SHARED_B_MAX = 1 << 22;
    /** At or below this many multiply-adds a product takes the simple loop. */
    private static final long SMALL = 16 * 16 * 16;
    /**
     * The 12 x 2-vector kernel holds 27 vectors live: right where there are 32 vector registers (AVX-512, NEON,
     * SVE). With 16 (AVX2) it is run as two 12 x 1-vector halves.
     */
    private static final boolean WIDE_KERNEL = !(FL <= 8 && System.getProperty("os.arch", "").matches("amd64|x86_64"));

    private Gemm() {}

    /** Where one operand's elements are: element (b, i, j) at {@code off + b*bs + i*rs + j*cs}. */
    private record Operand(MemorySegment seg, long off, long bs, long rs, long cs) {
        long index(long b, long i, long j) {
            return off + b * bs + i * rs + j * cs;
        }
    }

    /** {@code parallel}: all segments may be read by other threads (not confined), so work can be split. */
    private record Job(int batch, int m, int n, int k, Operand a, Operand b, Operand c, boolean accumulate, boolean parallel) {
        void forRange(int count, int grain, Parallel.Range body) {
            if (parallel) Parallel.forRange(count, grain, body);
            else body.run(0, count);
        }
    }

    /** A thread that never runs: segments it may access are not confined to the caller. */
    private static final Thread PROBE = new Thread(() -> {});

    /**
     * For b in [0,batch): C_b = A_b @ B_b (or C_b += A_b @ B_b when accumulate). Offsets and strides are in
     * elements into the segments (native byte order): A_b(i,p) at aOff + b*aBatch + i*aRs + p*aCs;
     * B_b(p,j) at bOff + b*bBatch + p*bRs + j*bCs; C_b(i,j) at cOff + b*cBatch + i*ldc + j. aBatch/bBatch may
     * be 0 (broadcast); cBatch 0 with batch > 1 sums all products into one C, in batch order. For each of A
     * and B one of its two strides must be 1 (row-major or transposed).
     *
     * @throws IllegalArgumentException on a bad layout or an operand that does not fit its segment
     */
    public static void sgemm(int batch, int m, int n, int k,
            MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs,
            MemorySegment c, long cOff, long cBatch, long ldc, boolean accumulate) {
        Job job = job("sgemm", Float.BYTES, batch, m, n, k, a, aOff, aBatch, aRs, aCs, b, bOff, bBatch, bRs, bCs,
                c, cOff, cBatch, ldc, accumulate);
        if (job == null) return;
        if (batch > 1 && cBatch == 0) {
            for (int i = 0; i < batch; i++) {
                sgemm(1, m, n, k, a, aOff + i * aBatch, 0, aRs, aCs, b, bOff + i * bBatch, 0, bRs, bCs,
                        c, cOff, 0, ldc, accumulate || i > 0);
            }
            return;
        }
        if (k == 0) {
            if (!accumulate) zero(job, Float.BYTES);
        } else if ((long) m * n * k <= SMALL || (m <= 2 && job.b.cs == 1)) {
            simple(job, false);
        } else {
            blocked(job);
        }
    }

    /** {@link #sgemm} for doubles; always the simple loop (exact, not fast). */
    public static void dgemm(int batch, int m, int n, int k,
            MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs,
            MemorySegment c, long cOff, long cBatch, long ldc, boolean accumulate) {
        Job job = job("dgemm", Double.BYTES, batch, m, n, k, a, aOff, aBatch, aRs, aCs, b, bOff, bBatch, bRs, bCs,
                c, cOff, cBatch, ldc, accumulate);
        if (job == null) return;
        if (batch > 1 && cBatch == 0) {
            for (int i = 0; i < batch; i++) {
                dgemm(1, m, n, k, a, aOff + i * aBatch, 0, aRs, aCs, b, bOff + i * bBatch, 0, bRs, bCs,
                        c, cOff, 0, ldc, accumulate || i > 0);
            }
            return;
        }
        if (k == 0) {
            if (!accumulate) zero(job, Double.BYTES);
        } else {
            simple(job, true);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Validation

    /** Checks the arguments; returns null when there is nothing to compute. */
    private static Job job(String op, int bytes, int batch, int m, int n, int k,
            MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs,
            MemorySegment c, long cOff, long cBatch, long ldc, boolean accumulate) {
        if (batch < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(op + ": negative size: batch=" + batch + " m=" + m + " n=" + n + " k=" + k);
        }
        if (batch == 0 || m == 0 || n == 0) return null;
        // A size-1 dimension's stride is never used: make it 1 so the layout test below accepts it.
        if (k == 1) { aCs = 1; bRs = 1; }
        if (m == 1) aRs = 1;
        if (n == 1) bCs = 1;
        if (aRs != 1 && aCs != 1) {
            throw new IllegalArgumentException(op + ": A [" + m + ", " + k + "] needs a unit stride (row-major or "
                    + "transposed), got strides [" + aRs + ", " + aCs + "]");
        }
        if (bRs != 1 && bCs != 1) {
            throw new IllegalArgumentException(op + ": B [" + k + ", " + n + "] needs a unit stride (row-major or "
                    + "transposed), got strides [" + bRs + ", " + bCs + "]");
        }
        if (m > 1 && ldc < n) {
            throw new IllegalArgumentException(op + ": ldc " + ldc + " < n " + n + ": rows of C [" + m + ", " + n + "] would overlap");
        }
        Operand ao = new Operand(a, aOff, aBatch, aRs, aCs), bo = new Operand(b, bOff, bBatch, bRs, bCs);
        Operand co = new Operand(c, cOff, cBatch, ldc, 1);
        if (k > 0) {
            fits(op, "A", ao, batch, m, k, bytes);
            fits(op, "B", bo, batch, k, n, bytes);
        }
        fits(op, "C", co, batch, m, n, bytes);
        boolean parallel = a.isAccessibleBy(PROBE) && b.isAccessibleBy(PROBE) && c.isAccessibleBy(PROBE);
        return new Job(batch, m, n, k, ao, bo, co, accumulate, parallel);
    }

    private static void fits(String op, String name, Operand o, int batch, int rows, int cols, int bytes) {
        if (o.off < 0 || o.bs < 0 || o.rs < 0 || o.cs < 0) {
            throw new IllegalArgumentException(op + ": " + name + " offset and strides must be >= 0, got offset " + o.off
                    + ", batch stride " + o.bs + ", strides [" + o.rs + ", " + o.cs + "]");
        }
        long last = o.index(batch - 1, rows - 1, cols - 1);
        long size = o.seg.byteSize() / bytes;
        if (last >= size) {
            throw new IllegalArgumentException(op + ": " + name + " [" + batch + ", " + rows + ", " + cols + "] (offset "
                    + o.off + ", batch stride " + o.bs + ", strides [" + o.rs + ", " + o.cs + "]) reaches element "
                    + last + " but the segment holds " + size);
        }
    }

    private static void zero(Job job, int bytes) {
        Operand c = job.c;
        for (int b = 0; b < job.batch; b++) {
            for (int i = 0; i < job.m; i++) {
                c.seg.asSlice(c.index(b, i, 0) * bytes, (long) job.n * bytes).fill((byte) 0);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Blocked float path

    /** Per-thread packing buffers, reused across calls. */
    private static final class Scratch {
        final float[] a = new float[MC * KC];
        final float[] tile = new float[MR * NR];
        float[] b = new float[0];
        float[] shared = new float[0];
        float[] row = new float[0];
        double[] drow = new double[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Floats of a packed B block of {@code cols} columns and one row: full slivers, then one of FL or NR. */
    private static int packedWidth(int cols) {
        int rem = cols % NR;
        return cols - rem + (rem == 0 ? 0 : rem <= FL ? FL : NR);
    }

    private static void blocked(Job job) {
        int m = job.m, n = job.n, k = job.k;
        int mBlocks = (m + MC - 1) / MC;
        if (job.batch < 4 && mBlocks > 1 && (long) k * packedWidth(Math.min(n, NR)) <= SHARED_B_MAX) {
            sharedB(job, mBlocks);
            return;
        }
        // Every task packs its own B block. Panels narrow enough to give both cores work when tasks are few.
        int tilesPerPanel = job.batch * mBlocks;
        int panels = Math.max((n + NC1 - 1) / NC1, Math.min((n + NR - 1) / NR, (8 + tilesPerPanel - 1) / tilesPerPanel));
        int nc = ((n + panels - 1) / panels + NR - 1) / NR * NR;
        int nPanels = (n + nc - 1) / nc;
        job.forRange(job.batch * mBlocks * nPanels, 1, (lo, hi) -> {
            Scratch s = SCRATCH.get();
            for (int t = lo; t < hi; t++) {
                int b = t / (mBlocks * nPanels), rest = t % (mBlocks * nPanels);
                int i0 = rest / nPanels * MC, j0 = rest % nPanels * nc;
                ownTile(job, s, b, i0, Math.min(MC, m - i0), j0, Math.min(nc, n - j0));
            }
        });
    }

    /** One tile of C: rows [i0, i0+mc) x columns [j0, j0+nc) of batch b, packing its own A and B blocks. */
    private static void ownTile(Job job, Scratch s, int b, int i0, int mc, int j0, int nc) {
        int need = KC * packedWidth(nc);
        if (s.b.length < need) s.b = new float[need];
        for (int p0 = 0; p0 < job.k; p0 += KC) {
            int kc = Math.min(KC, job.k - p0);
            packB(s.b, 0, job.b, job.b.index(b, p0, j0), kc, nc);
            packA(s.a, job.a, job.a.index(b, i0, p0), mc, kc);
            macroKernel(s, mc, nc, kc, s.b, 0, job.c.seg, job.c.index(b, i0, j0), job.c.rs, job.accumulate || p0 > 0);
        }
    }

    /**
     * Large products: for each batch item and column panel, pack all of B[:, panel] once (in parallel), then
     * give each task a block of MC rows that packs its A blocks and reuses the shared B.
     */
    private static void sharedB(Job job, int mBlocks) {
        int m = job.m, n = job.n, k = job.k;
        int nc = (int) Math.min(n, SHARED_B_MAX / k / NR * NR);
        int kBlocks = (k + KC - 1) / KC;
        Scratch caller = SCRATCH.get();
        for (int b = 0; b < job.batch; b++) {
            for (int j0 = 0; j0 < n; j0 += nc) {
                int ncur = Math.min(nc, n - j0), pw = packedWidth(ncur), slivers = (ncur + NR - 1) / NR;
                if (caller.shared.length < (long) k * pw) caller.shared = new float[k * pw];
                float[] bp = caller.shared;
                int bb = b, jj = j0;
                job.forRange(kBlocks * slivers, 4, (lo, hi) -> {
                    for (int t = lo; t < hi; t++) {
                        int p0 = t / slivers * KC, js = t % slivers * NR, kc = Math.min(KC, k - p0);
                        packB(bp, p0 * pw + js * kc, job.b, job.b.index(bb, p0, jj + js), kc, Math.min(NR, ncur - js));
                    }
                });
                job.forRange(mBlocks, 1, (lo, hi) -> {
                    Scratch s = SCRATCH.get();
                    for (int ib = lo; ib < hi; ib++) {
                        int i0 = ib * MC, mc = Math.min(MC, m - i0);
                        for (int p0 = 0; p0 < k; p0 += KC) {
                            int kc = Math.min(KC, k - p0);
                            packA(s.a, job.a, job.a.index(bb, i0, p0), mc, kc);
                            macroKernel(s, mc, ncur, kc, bp, p0 * pw, job.c.seg, job.c.index(bb, i0, jj), job.c.rs,
                                    job.accumulate || p0 > 0);
                        }
                    }
                });
            }
        }
    }

    /**
     * Packs A rows [0, rows) x K [0, kc) from element {@code idx} into MR-row slivers:
     * {@code ap[s*MR*kc + p*MR + r] = A(s*MR + r, p)}, rows past {@code rows} zero.
     */
    private static void packA(float[] ap, Operand a, long idx, int rows, int kc) {
        MemorySegment seg = a.seg;
        for (int r0 = 0; r0 < rows; r0 += MR) {
            int base = r0 * kc, h = Math.min(MR, rows - r0);
            if (a.cs == 1) { // row-major: each row contiguous along K
                for (int r = 0; r < h; r++) {
                    long src = idx + (r0 + r) * a.rs;
                    for (int p = 0; p < kc; p++) ap[base + p * MR + r] = seg.getAtIndex(F32, src + p);
                }
                if (h < MR) {
                    for (int p = 0; p < kc; p++) Arrays.fill(ap, base + p * MR + h, base + p * MR + MR, 0f);
                }
            } else { // transposed: the sliver's rows are contiguous for each p
                for (int r = 0; r < MR; r += FL) { // one pass when a vector holds MR floats
                    VectorMask<Float> load = FS.indexInRange(r, h), store = FS.indexInRange(r, MR);
                    for (int p = 0; p < kc; p++) {
                        FloatVector.fromMemorySegment(FS, seg, (idx + r0 + r + p * a.cs) * Float.BYTES, NATIVE, load)
                                .intoArray(ap, base + p * MR + r, store);
                    }
                }
            }
        }
    }

    /**
     * Packs B K [0, kc) x columns [0, cols) from element {@code idx} at {@code base} into slivers of NR columns
     * (the last FL or NR wide, zero padded): sliver {@code t} at {@code base + t*NR*kc}, (p, j) at p*width + j.
     */
    private static void packB(float[] bp, int base, Operand b, long idx, int kc, int cols) {
        MemorySegment seg = b.seg;
        for (int j0 = 0; j0 < cols; j0 += NR) {
            int w = Math.min(NR, cols - j0), pw = w > FL ? NR : FL, dst = base + j0 * kc;
            if (b.cs == 1) { // row-major: rows contiguous
                long src = (idx + j0) * Float.BYTES, step = b.rs * Float.BYTES;
                if (w == NR) {
                    for (int p = 0; p < kc; p++, src += step, dst += NR) {
                        FloatVector.fromMemorySegment(FS, seg, src, NATIVE).intoArray(bp, dst);
                        FloatVector.fromMemorySegment(FS, seg, src + FL * Float.BYTES, NATIVE).intoArray(bp, dst + FL);
                    }
                } else {
                    for (int v = 0; v < pw; v += FL) {
                        VectorMask<Float> mask = FS.indexInRange(v, w);
                        for (int p = 0; p < kc; p++) {
                            FloatVector.fromMemorySegment(FS, seg, src + p * step + v * Float.BYTES, NATIVE, mask)
                                    .intoArray(bp, dst + p * pw + v);
                        }
                    }
                }
            } else { // transposed: columns contiguous along K
                if (w < pw) Arrays.fill(bp, dst, dst + kc * pw, 0f);
                for (int j = 0; j < w; j++) {
                    long src = idx + (j0 + j) * b.cs;
                    for (int p = 0; p < kc; p++) bp[dst + p * pw + j] = seg.getAtIndex(F32, src + p);
                }
            }
        }
    }

    /** C[0:mc, 0:nc] (+)= packed A block @ packed B block (at {@code bBase}); C starts at element cIdx. */
    private static void macroKernel(Scratch s, int mc, int nc, int kc, float[] bp, int bBase,
            MemorySegment c, long cIdx, long ldc, boolean add) {
        float[] ap = s.a, tile = s.tile;
        for (int j0 = 0; j0 < nc; j0 += NR) {
            int w = Math.min(NR, nc - j0), bi = bBase + j0 * kc;
            for (int i0 = 0; i0 < mc; i0 += MR) {
                int ai = i0 * kc;
                if (w <= FL) {
                    kernel12x1(kc, ap, ai, bp, bi, FL, tile, 0);
                } else if (WIDE_KERNEL) {
                    kernel12x2(kc, ap, ai, bp, bi, tile);
                } else {
                    kernel12x1(kc, ap, ai, bp, bi, NR, tile, 0);
                    kernel12x1(kc, ap, ai, bp, bi + FL, NR, tile, FL);
                }
                storeTile(tile, Math.min(MR, mc - i0), w, c, cIdx + i0 * ldc + j0, ldc, add);
            }
        }
    }

    /** Writes (or adds) rows [0, rows) x columns [0, cols) of the MR x NR tile to C at element cIdx. */
    private static void storeTile(float[] tile, int rows, int cols, MemorySegment c, long cIdx, long ldc, boolean add) {
        for (int r = 0; r < rows; r++) {
            long row = (cIdx + r * ldc) * Float.BYTES;
            for (int v = 0; v < cols; v += FL) {
                FloatVector x = FloatVector.fromArray(FS, tile, r * NR + v);
                long at = row + (long) v * Float.BYTES;
                if (v + FL <= cols) {
                    if (add) x = FloatVector.fromMemorySegment(FS, c, at, NATIVE).add(x);
                    x.intoMemorySegment(c, at, NATIVE);
                } else {
                    VectorMask<Float> mask = FS.indexInRange(v, cols);
                    if (add) x = FloatVector.fromMemorySegment(FS, c, at, NATIVE, mask).add(x);
                    x.intoMemorySegment(c, at, NATIVE, mask);
                }
            }
        }
    }

    /** 12 x 2-vector micro-kernel: tile = A sliver (12 x kc) @ B sliver (kc x 2 vectors). */
    private static void kernel12x2(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z,
                c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z, c80 = z, c81 = z, c90 = z, c91 = z,
                ca0 = z, ca1 = z, cb0 = z, cb1 = z;
        for (int p = 0; p < kc; p++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(FS, bp, bi), b1 = FloatVector.fromArray(FS, bp, bi + FL), a;
            a = FloatVector.broadcast(FS, ap[ai]); c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(FS, ap[ai + 1]); c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(FS, ap[ai + 2]); c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(FS, ap[ai + 3]); c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(FS, ap[ai + 4]); c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(FS, ap[ai + 5]); c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(FS, ap[ai + 6]); c60 = b0.fma(a, c60); c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(FS, ap[ai + 7]); c70 = b0.fma(a, c70); c71 = b1.fma(a, c71);
            a = FloatVector.broadcast(FS, ap[ai + 8]); c80 = b0.fma(a, c80); c81 = b1.fma(a, c81);
            a = FloatVector.broadcast(FS, ap[ai + 9]); c90 = b0.fma(a, c90); c91 = b1.fma(a, c91);
            a = FloatVector.broadcast(FS, ap[ai + 10]); ca0 = b0.fma(a, ca0); ca1 = b1.fma(a, ca1);
            a = FloatVector.broadcast(FS, ap[ai + 11]); cb0 = b0.fma(a, cb0); cb1 = b1.fma(a, cb1);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, FL);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + FL);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + FL);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + FL);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + FL);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + FL);
        c60.intoArray(tile, 6 * NR); c61.intoArray(tile, 6 * NR + FL);
        c70.intoArray(tile, 7 * NR); c71.intoArray(tile, 7 * NR + FL);
        c80.intoArray(tile, 8 * NR); c81.intoArray(tile, 8 * NR + FL);
        c90.intoArray(tile, 9 * NR); c91.intoArray(tile, 9 * NR + FL);
        ca0.intoArray(tile, 10 * NR); ca1.intoArray(tile, 10 * NR + FL);
        cb0.intoArray(tile, 11 * NR); cb1.intoArray(tile, 11 * NR + FL);
    }

    /**
     * 12 x 1-vector micro-kernel: tile[.., off:off+FL] = A sliver (12 x kc) @ one vector column of a B sliver
     * whose rows are {@code bStride} floats apart. Used for narrow edges and, twice, on 16-register machines.
     */
    private static void kernel12x1(int kc, float[] ap, int ai, float[] bp, int bi, int bStride, float[] tile, int off) {
        FloatVector z = FloatVector.zero(FS);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, ca = z, cb = z;
        for (int p = 0; p < kc; p++, ai += MR, bi += bStride) {
            FloatVector b0 = FloatVector.fromArray(FS, bp, bi);
            c0 = b0.fma(FloatVector.broadcast(FS, ap[ai]), c0);
            c1 = b0.fma(FloatVector.broadcast(FS, ap[ai + 1]), c1);
            c2 = b0.fma(FloatVector.broadcast(FS, ap[ai + 2]), c2);
            c3 = b0.fma(FloatVector.broadcast(FS, ap[ai + 3]), c3);
            c4 = b0.fma(FloatVector.broadcast(FS, ap[ai + 4]), c4);
            c5 = b0.fma(FloatVector.broadcast(FS, ap[ai + 5]), c5);
            c6 = b0.fma(FloatVector.broadcast(FS, ap[ai + 6]), c6);
            c7 = b0.fma(FloatVector.broadcast(FS, ap[ai + 7]), c7);
            c8 = b0.fma(FloatVector.broadcast(FS, ap[ai + 8]), c8);
            c9 = b0.fma(FloatVector.broadcast(FS, ap[ai + 9]), c9);
            ca = b0.fma(FloatVector.broadcast(FS, ap[ai + 10]), ca);
            cb = b0.fma(FloatVector.broadcast(FS, ap[ai + 11]), cb);
        }
        c0.intoArray(tile, off); c1.intoArray(tile, off + NR); c2.intoArray(tile, off + 2 * NR);
        c3.intoArray(tile, off + 3 * NR); c4.intoArray(tile, off + 4 * NR); c5.intoArray(tile, off + 5 * NR);
        c6.intoArray(tile, off + 6 * NR); c7.intoArray(tile, off + 7 * NR); c8.intoArray(tile, off + 8 * NR);
        c9.intoArray(tile, off + 9 * NR); ca.intoArray(tile, off + 10 * NR); cb.intoArray(tile, off + 11 * NR);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Simple path: tiny float products, one- or two-row float products, and all double products

    /** Columns of C per task in the simple path. */
    private static final int CHUNK = 256;

    /**
     * Each task computes C(b, i, j0:j0+CHUNK): every element a sequential fma chain over p = 0..k-1, then
     * stored or added to C. Vectorized over j when B is row-major.
     */
    private static void simple(Job job, boolean dbl) {
        int m = job.m, n = job.n, k = job.k, chunks = (n + CHUNK - 1) / CHUNK;
        int grain = (int) Math.max(1, 32768 / ((long) k * Math.min(n, CHUNK)));
        job.forRange(job.batch * m * chunks, grain, (lo, hi) -> {
            Scratch s = SCRATCH.get();
            for (int t = lo; t < hi; t++) {
                int b = t / (m * chunks), i = t / chunks % m, j0 = t % chunks * CHUNK, w = Math.min(CHUNK, n - j0);
                if (dbl) simpleRowD(job, s, b, i, j0, w);
                else simpleRowF(job, s, b, i, j0, w);
            }
        });
    }

    private static void simpleRowF(Job job, Scratch s, int b, int i, int j0, int w) {
        Operand a = job.a, bo = job.b, c = job.c;
        if (s.row.length < w) s.row = new float[CHUNK];
        float[] acc = s.row;
        if (bo.cs == 1) {
            Arrays.fill(acc, 0, w, 0f);
            for (int p = 0; p < job.k; p++) {
                FloatVector x = FloatVector.broadcast(FS, a.seg.getAtIndex(F32, a.index(b, i, p)));
                long src = bo.index(b, p, j0) * Float.BYTES;
                for (int j = 0; j < w; j += FL) {
                    VectorMask<Float> mask = FS.indexInRange(j, w);
                    FloatVector y = FloatVector.fromMemorySegment(FS, bo.seg, src + (long) j * Float.BYTES, NATIVE, mask);
                    y.fma(x, FloatVector.fromArray(FS, acc, j, mask)).intoArray(acc, j, mask);
                }
            }
        } else {
            for (int j = 0; j < w; j++) {
                float sum = 0f;
                for (int p = 0; p < job.k; p++) {
                    sum = Math.fma(a.seg.getAtIndex(F32, a.index(b, i, p)), bo.seg.getAtIndex(F32, bo.index(b, p, j0 + j)), sum);
                }
                acc[j] = sum;
            }
        }
        long dst = c.index(b, i, j0);
        for (int j = 0; j < w; j++) {
            float v = job.accumulate ? c.seg.getAtIndex(F32, dst + j) + acc[j] : acc[j];
            c.seg.setAtIndex(F32, dst + j, v);
        }
    }

    private static void simpleRowD(Job job, Scratch s, int b, int i, int j0, int w) {
        Operand a = job.a, bo = job.b, c = job.c;
        if (s.drow.length < w) s.drow = new double[CHUNK];
        double[] acc = s.drow;
        if (bo.cs == 1) {
            Arrays.fill(acc, 0, w, 0d);
            for (int p = 0; p < job.k; p++) {
                DoubleVector x = DoubleVector.broadcast(DS, a.seg.getAtIndex(F64, a.index(b, i, p)));
                long src = bo.index(b, p, j0) * Double.BYTES;
                for (int j = 0; j < w; j += DL) {
                    VectorMask<Double> mask = DS.indexInRange(j, w);
                    DoubleVector y = DoubleVector.fromMemorySegment(DS, bo.seg, src + (long) j * Double.BYTES, NATIVE, mask);
                    y.fma(x, DoubleVector.fromArray(DS, acc, j, mask)).intoArray(acc, j, mask);
                }
            }
        } else {
            for (int j = 0; j < w; j++) {
                double sum = 0d;
                for (int p = 0; p < job.k; p++) {
                    sum = Math.fma(a.seg.getAtIndex(F64, a.index(b, i, p)), bo.seg.getAtIndex(F64, bo.index(b, p, j0 + j)), sum);
                }
                acc[j] = sum;
            }
        }
        long dst = c.index(b, i, j0);
        for (int j = 0; j < w; j++) {
            double v = job.accumulate ? c.seg.getAtIndex(F64, dst + j) + acc[j] : acc[j];
            c.seg.setAtIndex(F64, dst + j, v);
        }
    }
}
