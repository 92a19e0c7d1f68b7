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
 * <p>The float path follows BLIS: K is cut into blocks of {@link #KC}; for each block, a panel of B is packed
 * into {@link #NR}-column slivers (zero padded at the edge), a block of A is copied into a buffer as it lies
 * (row-major or transposed, runs of contiguous floats; zero rows up to a multiple of {@link #MR}), and a
 * register-blocked micro-kernel (12 x 2 vectors of accumulators, 12 x 32 on AVX-512) reads A with strides,
 * B sliver by sliver, and multiplies with {@code fma}. Work is split into tiles of C over batch x row blocks x
 * column chunks; a big product packs B once, shared by all tiles.
 *
 * <p>Determinism: every element of C is, for each K block in order, a sequential {@code fma} chain over that
 * block starting from zero, added to C block after block. How C is tiled, which kernel variant or thread
 * computes a tile, and the thread count do not change that sequence, so results are bit-identical across
 * thread counts and runs. Tiny products (and products with one or two rows) take a simple loop whose elements
 * are one {@code fma} chain over all of K. {@code dgemm} always uses that simple loop. Which path runs depends
 * only on the shapes and strides. A batch that is really one product (a shared B with A and C items stacked
 * row after row; or a summed C with A and B items stacked along K) is computed as that one product.
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
    static final int KC = 512;
    /** Most rows of C per task (a multiple of MR); free to change, results do not depend on it. */
    static final int MC = 16 * MR;
    /** Tasks a product is cut into where its shape allows (a few per core, for balance). */
    private static final int TASKS = 8;
    /** Widest column panel of a task that packs its own B block (KC x NC1 floats, about the L2 size). */
    static final int NC1 = 512 / NR * NR;
    /** Cap on the floats of the shared packed B panel (all of K). */
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
    private record Job(int batch, int m, int n, int k, Operand a, Operand b, Operand c, boolean accumulate, boolean parallel,
            MemorySegment bias, long biasOff) {
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
     * be 0 (broadcast); cBatch 0 with batch > 1 sums all products into one C. For each of A
     * and B one of its two strides must be 1 (row-major or transposed).
     *
     * @throws IllegalArgumentException on a bad layout or an operand that does not fit its segment
     */
    public static void sgemm(int batch, int m, int n, int k,
            MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs,
            MemorySegment c, long cOff, long cBatch, long ldc, boolean accumulate) {
        gemm(false, batch, m, n, k, a, aOff, aBatch, aRs, aCs, b, bOff, bBatch, bRs, bCs, c, cOff, cBatch, ldc, accumulate);
    }

    /**
     * One product with a bias, as {@code torch.nn.functional.linear}: C = A @ B + bias (bias[j] added to column j of
     * every row; element bias[j] at {@code biasOff + j}). The bias is added to each element after its last K block,
     * in float, as a separate {@code C + bias} pass over the finished product would add it: the same bits, without
     * the pass. Strides as in {@link #sgemm}.
     */
    public static void sgemmBias(int m, int n, int k,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            MemorySegment c, long cOff, long ldc, MemorySegment bias, long biasOff) {
        Job job = job("sgemm", Float.BYTES, 1, m, n, k, a, aOff, 0, aRs, aCs, b, bOff, 0, bRs, bCs, c, cOff, 0, ldc, false);
        if (job == null) return;
        if (biasOff < 0 || biasOff + n > bias.byteSize() / Float.BYTES) {
            throw new IllegalArgumentException("sgemm: bias [" + n + "] at offset " + biasOff + " does not fit its segment of "
                    + bias.byteSize() / Float.BYTES + " floats");
        }
        run(new Job(1, m, n, k, job.a, job.b, job.c, false, job.parallel && bias.isAccessibleBy(PROBE), bias, biasOff), false);
    }

    /** {@link #sgemm} for doubles; always the simple loop (exact, not fast). */
    public static void dgemm(int batch, int m, int n, int k,
            MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs,
            MemorySegment c, long cOff, long cBatch, long ldc, boolean accumulate) {
        gemm(true, batch, m, n, k, a, aOff, aBatch, aRs, aCs, b, bOff, bBatch, bRs, bCs, c, cOff, cBatch, ldc, accumulate);
    }

    private static void gemm(boolean dbl, int batch, int m, int n, int k,
            MemorySegment a, long aOff, long aBatch, long aRs, long aCs,
            MemorySegment b, long bOff, long bBatch, long bRs, long bCs,
            MemorySegment c, long cOff, long cBatch, long ldc, boolean accumulate) {
        int bytes = dbl ? Double.BYTES : Float.BYTES;
        Job job = job(dbl ? "dgemm" : "sgemm", bytes, batch, m, n, k, a, aOff, aBatch, aRs, aCs, b, bOff, bBatch, bRs, bCs,
                c, cOff, cBatch, ldc, accumulate);
        if (job == null) return;
        if (batch > 1 && bBatch == 0 && aBatch == (long) m * aRs && cBatch == (long) m * ldc && (aCs == 1 || k == 1)
                && (long) batch * m <= Integer.MAX_VALUE) {
            // One B for all, and the items of A and C follow each other row after row (x[B, T, C] @ W):
            // a single product with batch*m rows.
            gemm(dbl, 1, batch * m, n, k, a, aOff, 0, aRs, aCs, b, bOff, 0, bRs, bCs, c, cOff, 0, ldc, accumulate);
        } else if (batch > 1 && cBatch == 0 && aBatch == (long) k * aCs && bBatch == (long) k * bRs
                && (long) batch * k <= Integer.MAX_VALUE) {
            // A sum of products whose A and B items follow each other along K (x[B, T, C]^T @ g[B, T, N]):
            // a single product with batch*k terms.
            gemm(dbl, 1, m, n, batch * k, a, aOff, 0, aRs, aCs, b, bOff, 0, bRs, bCs, c, cOff, 0, ldc, accumulate);
        } else if (batch > 1 && cBatch == 0) {
            for (int i = 0; i < batch; i++) {
                gemm(dbl, 1, m, n, k, a, aOff + i * aBatch, 0, aRs, aCs, b, bOff + i * bBatch, 0, bRs, bCs,
                        c, cOff, 0, ldc, accumulate || i > 0);
            }
        } else {
            run(job, dbl);
        }
    }

    /** One product or a batch of independent ones: the path is chosen by the shapes and strides alone. */
    private static void run(Job job, boolean dbl) {
        if (job.k == 0) {
            if (!job.accumulate) zero(job, dbl ? Double.BYTES : Float.BYTES);
        } else if (dbl || (long) job.m * job.n * job.k <= SMALL || (job.m <= 2 && job.b.cs == 1)) {
            simple(job, dbl);
        } else {
            blocked(job);
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
        if (batch > 1 && cBatch != 0 && cBatch < (m - 1) * ldc + n) {
            throw new IllegalArgumentException(op + ": C batch stride " + cBatch + " < " + ((m - 1) * ldc + n)
                    + ": the [" + m + ", " + n + "] items of C would overlap (0 sums them into one)");
        }
        Operand ao = new Operand(a, aOff, aBatch, aRs, aCs), bo = new Operand(b, bOff, bBatch, bRs, bCs);
        Operand co = new Operand(c, cOff, cBatch, ldc, 1);
        if (k > 0) {
            fits(op, "A", ao, batch, m, k, bytes);
            fits(op, "B", bo, batch, k, n, bytes);
        }
        fits(op, "C", co, batch, m, n, bytes);
        boolean parallel = a.isAccessibleBy(PROBE) && b.isAccessibleBy(PROBE) && c.isAccessibleBy(PROBE);
        return new Job(batch, m, n, k, ao, bo, co, accumulate, parallel, null, 0);
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
        if (job.bias != null) { // k = 0: C = bias (a bias job never accumulates)
            for (int i = 0; i < job.m; i++) {
                MemorySegment.copy(job.bias, job.biasOff * Float.BYTES, c.seg, c.index(0, i, 0) * Float.BYTES, (long) job.n * Float.BYTES);
            }
            return;
        }
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
        final float[] a = new float[MC * (KC + 32)];
        final float[] tile = new float[MR * NR];
        float[] b = new float[0];
        float[] sharedB = new float[0];
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
        if (job.batch < 4 && m > MC && (long) k * packedWidth(Math.min(n, NR)) <= SHARED_B_MAX) {
            shared(job);
            return;
        }
        // Every task packs its own blocks. Panels narrow enough to give both cores work when tasks are few.
        int mBlocks = (m + MC - 1) / MC, tilesPerPanel = job.batch * mBlocks;
        int panels = Math.max((n + NC1 - 1) / NC1, Math.min((n + NR - 1) / NR, (TASKS + tilesPerPanel - 1) / tilesPerPanel));
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
            long as = aStrides(job.a, mc, kc);
            packA(s.a, 0, job.a, job.a.index(b, i0, p0), mc, kc, as);
            macroKernel(s.a, 0, as, mc, nc, kc, s.b, 0, job.c.seg, job.c.index(b, i0, j0), job.c.rs,
                    job.accumulate || p0 > 0, s.tile, p0 + kc == job.k ? job.bias : null, job.biasOff + j0);
        }
    }

    /**
     * Large products: for each batch item and column panel, pack all of B[:, panel] once (in parallel), then
     * cut C[:, panel] into tiles (row blocks of whole slivers, at most MC rows, times column chunks where rows are
     * few) that each copy their own A blocks and read the shared B.
     */
    private static void shared(Job job) {
        int m = job.m, n = job.n, k = job.k, kBlocks = (k + KC - 1) / KC;
        int rowSlivers = (m + MR - 1) / MR, perBlock = MC / MR, mBlocks = (rowSlivers + perBlock - 1) / perBlock;
        int nc = (int) Math.min(n, SHARED_B_MAX / k / NR * NR);
        boolean blockAtATime = (nc < n || kBlocks >= 4) && (long) KC * packedWidth(n) <= SHARED_B_MAX; // see kOuter
        // Rows first: every column chunk packs the same A rows again (a weight gradient's A is all of K). Row-major A:
        // many small row blocks (about 16 per thread, whole slivers), taken in turn, keep the threads even (a block's
        // size does not change the traffic: each A sliver reads the packed B sliver from cache either way); with one
        // block per thread the threads waited on each other (6400 x 128 x 512 as x @ W^T: 398 -> 451 GFLOP/s, 2026-12-08).
        // Transposed A (a weight gradient's g^T): a block per thread or two, in a multiple of the thread count; its
        // packing copies a run of the block's rows from each of kc rows of memory, and short runs cost more than the
        // imbalance (1024 x 8320 x 256: 390 GFLOP/s with 6 blocks, 295 with 29). Columns are cut only where rows are few.
        int threads = job.parallel ? Parallel.threads() : 1, rowTasks = (mBlocks + threads - 1) / threads * threads;
        boolean rowMajorA = job.a.cs == 1, wideBlocks = rowSlivers >= 2 * rowTasks;
        int rowBlocks = rowMajorA ? Math.max(mBlocks, Math.min(rowSlivers, 16 * threads)) : wideBlocks ? rowTasks : mBlocks;
        int mc = (rowSlivers + rowBlocks - 1) / rowBlocks * MR, mb = (m + mc - 1) / mc;
        boolean rowsOnly = rowMajorA ? mb >= 4 * threads : wideBlocks;
        int chunks = rowsOnly ? 1 : Math.min(((blockAtATime ? n : nc) + NR - 1) / NR, (TASKS + mb - 1) / mb);
        Scratch caller = SCRATCH.get();
        if (blockAtATime) {
            kOuter(job, caller, mc, mb, chunks);
            return;
        }
        for (int b = 0; b < job.batch; b++) {
            for (int j0 = 0; j0 < n; j0 += nc) {
                int ncur = Math.min(nc, n - j0), pw = packedWidth(ncur), slivers = (ncur + NR - 1) / NR;
                if (caller.sharedB.length < (long) k * pw) caller.sharedB = new float[k * pw];
                float[] bp = caller.sharedB;
                int bb = b, jj = j0;
                job.forRange(kBlocks * slivers, 2, (lo, hi) -> {
                    for (int t = lo; t < hi; t++) {
                        int p0 = t / slivers * KC, js = t % slivers * NR, kc = Math.min(KC, k - p0);
                        packB(bp, p0 * pw + js * kc, job.b, job.b.index(bb, p0, jj + js), kc, Math.min(NR, ncur - js));
                    }
                });
                int chunk = (slivers + chunks - 1) / chunks * NR, nChunks = (ncur + chunk - 1) / chunk;
                job.forRange(mb * nChunks, 1, (lo, hi) -> {
                    Scratch s = SCRATCH.get();
                    for (int t = lo; t < hi; t++) {
                        int i0 = t / nChunks * mc, rows = Math.min(mc, m - i0);
                        int jc = t % nChunks * chunk, cols = Math.min(chunk, ncur - jc);
                        for (int p0 = 0; p0 < k; p0 += KC) {
                            int kc = Math.min(KC, k - p0);
                            long as = aStrides(job.a, rows, kc);
                            packA(s.a, 0, job.a, job.a.index(bb, i0, p0), rows, kc, as);
                            macroKernel(s.a, 0, as, rows, cols, kc, bp, p0 * pw + jc * kc, job.c.seg,
                                    job.c.index(bb, i0, jj + jc), job.c.rs, job.accumulate || p0 > 0, s.tile,
                                    p0 + kc == k ? job.bias : null, job.biasOff + jj + jc);
                        }
                    }
                });
            }
        }
    }

    /**
     * Long products (a weight gradient: K is every token of the batch): one K block of all of B packed at a time, then
     * every tile's part of that block. A panel of B over all of K outgrows the L2 (and, past SHARED_B_MAX, was cut
     * into column panels that packed all of A again for each); one block of B stays in it while every row block
     * reads it. C receives the blocks in K order, as everywhere, so the bits do not change. vit-tiny-p4's weight
     * gradients, K 8320: 270-330 -> 370-410 GFLOP/s on two cores (2026-12-07).
     */
    private static void kOuter(Job job, Scratch caller, int mc, int mb, int chunks) {
        int m = job.m, n = job.n, k = job.k, slivers = (n + NR - 1) / NR;
        int chunk = (slivers + chunks - 1) / chunks * NR, nChunks = (n + chunk - 1) / chunk;
        if (caller.sharedB.length < KC * packedWidth(n)) caller.sharedB = new float[KC * packedWidth(n)];
        float[] bp = caller.sharedB;
        for (int b = 0; b < job.batch; b++) {
            for (int p0 = 0; p0 < k; p0 += KC) {
                int bb = b, q0 = p0, kc = Math.min(KC, k - p0);
                job.forRange(slivers, 2, (lo, hi) -> {
                    for (int t = lo; t < hi; t++)
                        packB(bp, t * NR * kc, job.b, job.b.index(bb, q0, t * NR), kc, Math.min(NR, n - t * NR));
                });
                job.forRange(mb * nChunks, 1, (lo, hi) -> {
                    Scratch s = SCRATCH.get();
                    for (int t = lo; t < hi; t++) {
                        int i0 = t / nChunks * mc, rows = Math.min(mc, m - i0);
                        int jc = t % nChunks * chunk, cols = Math.min(chunk, n - jc);
                        long as = aStrides(job.a, rows, kc);
                        packA(s.a, 0, job.a, job.a.index(bb, i0, q0), rows, kc, as);
                        macroKernel(s.a, 0, as, rows, cols, kc, bp, jc * kc, job.c.seg, job.c.index(bb, i0, jc), job.c.rs,
                                job.accumulate || q0 > 0, s.tile, q0 + kc == k ? job.bias : null, job.biasOff + jc);
                    }
                });
            }
        }
    }

    /**
     * Copies A rows [0, rows) x K [0, kc) from element {@code idx} into {@code ap}, element (i, p) at
     * {@code i*ars + p*acs} with {@code ars, acs} from {@link #aStrides}; rows up to a multiple of MR are zero.
     * Both layouts are plain copies of contiguous runs (no transposition): the kernel reads A with strides.
     */
    private static void packA(float[] ap, int base, Operand a, long idx, int rows, int kc, long strides) {
        int ars = (int) (strides >>> 32), acs = (int) strides, padded = (rows + MR - 1) / MR * MR;
        MemorySegment seg = a.seg;
        if (a.cs == 1) { // row-major: copy each row's kc floats
            for (int i = 0; i < rows; i++) copyRun(seg, (idx + i * a.rs) * Float.BYTES, ap, base + i * ars, kc);
            for (int i = rows; i < padded; i++) Arrays.fill(ap, base + i * ars, base + i * ars + kc, 0f);
        } else { // transposed: copy each p's run of rows
            for (int p = 0; p < kc; p++) {
                int at = base + p * acs;
                copyRun(seg, (idx + p * a.cs) * Float.BYTES, ap, at, rows);
                if (padded > rows) Arrays.fill(ap, at + rows, at + padded, 0f);
            }
        }
    }

    /**
     * {@code n} floats from byte {@code from} of {@code seg} to {@code to[at..]}: vector loads and stores, where
     * {@code MemorySegment.copy}'s checks and stub call cost more than the copy on runs of a few hundred floats (packing
     * A took 8% of a vit-mini-p4 step, perf, 2026-12-07).
     */
    private static void copyRun(MemorySegment seg, long from, float[] to, int at, int n) {
        int i = 0;
        for (int end = FS.loopBound(n); i < end; i += FL)
            FloatVector.fromMemorySegment(FS, seg, from + (long) i * Float.BYTES, NATIVE).intoArray(to, at + i);
        if (i < n) {
            VectorMask<Float> tail = FS.indexInRange(i, n);
            FloatVector.fromMemorySegment(FS, seg, from + (long) i * Float.BYTES, NATIVE, tail).intoArray(to, at + i, tail);
        }
    }

    /**
     * Strides (packed as {@code ars << 32 | acs}) of a packed A block: row-major A keeps rows of kc floats,
     * padded to an odd number of cache lines so the kernel's 12 row streams do not collide in L1 sets;
     * transposed A keeps runs of {@code rows} rounded up to MR.
     */
    private static long aStrides(Operand a, int rows, int kc) {
        if (a.cs == 1) {
            int lines = (kc + 15) / 16;
            return (long) ((lines | 1) * 16) << 32 | 1;
        }
        return 1L << 32 | (rows + MR - 1) / MR * MR;
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

    /**
     * C[0:mc, 0:nc] (+)= packed A block @ packed B block (at {@code bBase}); C starts at element cIdx. With a bias
     * (the last K block of a {@link #sgemmBias}), bias[j] from element biasIdx is added after.
     */
    private static void macroKernel(float[] ap, int aBase, long aStrides, int mc, int nc, int kc, float[] bp, int bBase,
            MemorySegment c, long cIdx, long ldc, boolean add, float[] tile, MemorySegment bias, long biasIdx) {
        int ars = (int) (aStrides >>> 32), acs = (int) aStrides;
        for (int j0 = 0; j0 < nc; j0 += NR) {
            int w = Math.min(NR, nc - j0), bi = bBase + j0 * kc;
            for (int i0 = 0; i0 < mc; i0 += MR) {
                int ai = aBase + i0 * ars;
                if (w <= FL) {
                    kernel12x1(kc, ap, ai, ars, acs, bp, bi, FL, tile, 0);
                } else if (WIDE_KERNEL) {
                    kernel12x2(kc, ap, ai, ars, acs, bp, bi, tile);
                } else {
                    kernel12x1(kc, ap, ai, ars, acs, bp, bi, NR, tile, 0);
                    kernel12x1(kc, ap, ai, ars, acs, bp, bi + FL, NR, tile, FL);
                }
                storeTile(tile, Math.min(MR, mc - i0), w, c, cIdx + i0 * ldc + j0, ldc, add, bias, biasIdx + j0);
            }
        }
    }

    /**
     * Writes (or adds) rows [0, rows) x columns [0, cols) of the MR x NR tile to C at element cIdx, then adds
     * bias[v] (from element biasIdx) when a bias is given.
     */
    private static void storeTile(float[] tile, int rows, int cols, MemorySegment c, long cIdx, long ldc, boolean add,
            MemorySegment bias, long biasIdx) {
        for (int r = 0; r < rows; r++) {
            long row = (cIdx + r * ldc) * Float.BYTES;
            for (int v = 0; v < cols; v += FL) {
                FloatVector x = FloatVector.fromArray(FS, tile, r * NR + v);
                long at = row + (long) v * Float.BYTES, bAt = (biasIdx + v) * Float.BYTES;
                if (v + FL <= cols) {
                    if (add) x = FloatVector.fromMemorySegment(FS, c, at, NATIVE).add(x);
                    if (bias != null) x = x.add(FloatVector.fromMemorySegment(FS, bias, bAt, NATIVE));
                    x.intoMemorySegment(c, at, NATIVE);
                } else {
                    VectorMask<Float> mask = FS.indexInRange(v, cols);
                    if (add) x = FloatVector.fromMemorySegment(FS, c, at, NATIVE, mask).add(x);
                    if (bias != null) x = x.add(FloatVector.fromMemorySegment(FS, bias, bAt, NATIVE, mask));
                    x.intoMemorySegment(c, at, NATIVE, mask);
                }
            }
        }
    }

    /**
     * 12 x 2-vector micro-kernel: tile = A rows (12 x kc, element (r, p) at ai + r*ars + p*acs) @ B sliver
     * (kc x 2 vectors).
     */
    private static void kernel12x2(int kc, float[] ap, int ai, int ars, int acs, float[] bp, int bi, float[] tile) {
        int r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars, r6 = 6 * ars, r7 = 7 * ars, r8 = 8 * ars,
                r9 = 9 * ars, r10 = 10 * ars, r11 = 11 * ars;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z,
                c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z, c80 = z, c81 = z, c90 = z, c91 = z,
                ca0 = z, ca1 = z, cb0 = z, cb1 = z;
        for (int p = 0; p < kc; p++, ai += acs, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(FS, bp, bi), b1 = FloatVector.fromArray(FS, bp, bi + FL), a;
            a = FloatVector.broadcast(FS, ap[ai]); c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(FS, ap[ai + r1]); c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(FS, ap[ai + r2]); c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(FS, ap[ai + r3]); c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(FS, ap[ai + r4]); c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(FS, ap[ai + r5]); c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(FS, ap[ai + r6]); c60 = b0.fma(a, c60); c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(FS, ap[ai + r7]); c70 = b0.fma(a, c70); c71 = b1.fma(a, c71);
            a = FloatVector.broadcast(FS, ap[ai + r8]); c80 = b0.fma(a, c80); c81 = b1.fma(a, c81);
            a = FloatVector.broadcast(FS, ap[ai + r9]); c90 = b0.fma(a, c90); c91 = b1.fma(a, c91);
            a = FloatVector.broadcast(FS, ap[ai + r10]); ca0 = b0.fma(a, ca0); ca1 = b1.fma(a, ca1);
            a = FloatVector.broadcast(FS, ap[ai + r11]); cb0 = b0.fma(a, cb0); cb1 = b1.fma(a, cb1);
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
     * 12 x 1-vector micro-kernel: tile[.., off:off+FL] = A rows (as in kernel12x2) @ one vector column of a B sliver
     * whose rows are {@code bStride} floats apart. Used for narrow edges and, twice, on 16-register machines.
     */
    private static void kernel12x1(int kc, float[] ap, int ai, int ars, int acs, float[] bp, int bi, int bStride,
            float[] tile, int off) {
        int r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars, r6 = 6 * ars, r7 = 7 * ars, r8 = 8 * ars,
                r9 = 9 * ars, r10 = 10 * ars, r11 = 11 * ars;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, ca = z, cb = z;
        for (int p = 0; p < kc; p++, ai += acs, bi += bStride) {
            FloatVector b0 = FloatVector.fromArray(FS, bp, bi);
            c0 = b0.fma(FloatVector.broadcast(FS, ap[ai]), c0);
            c1 = b0.fma(FloatVector.broadcast(FS, ap[ai + r1]), c1);
            c2 = b0.fma(FloatVector.broadcast(FS, ap[ai + r2]), c2);
            c3 = b0.fma(FloatVector.broadcast(FS, ap[ai + r3]), c3);
            c4 = b0.fma(FloatVector.broadcast(FS, ap[ai + r4]), c4);
            c5 = b0.fma(FloatVector.broadcast(FS, ap[ai + r5]), c5);
            c6 = b0.fma(FloatVector.broadcast(FS, ap[ai + r6]), c6);
            c7 = b0.fma(FloatVector.broadcast(FS, ap[ai + r7]), c7);
            c8 = b0.fma(FloatVector.broadcast(FS, ap[ai + r8]), c8);
            c9 = b0.fma(FloatVector.broadcast(FS, ap[ai + r9]), c9);
            ca = b0.fma(FloatVector.broadcast(FS, ap[ai + r10]), ca);
            cb = b0.fma(FloatVector.broadcast(FS, ap[ai + r11]), cb);
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
            if (job.bias != null) v += job.bias.getAtIndex(F32, job.biasOff + j0 + j);
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
