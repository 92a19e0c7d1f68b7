package io.github.transformers4j.models.attention;

import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Local (windowed) self-attention over a grid of patch tokens: the patch at grid cell (r, c) attends only to the
 * patches (r', c') with |r - r'| <= K / 2 and |c - c'| <= K / 2, a K x K window centred on itself (clipped at the
 * borders), plus the {@code prefix} global tokens (a class token) that come first in the sequence. A prefix token
 * attends to every token.
 *
 * <p>Two implementations with the same result:
 * <ul>
 *   <li>{@link #mask}: a BOOL (L, L) attention mask (true = masked) for ordinary attention, cost O(L^2 D) as full
 *       attention: the window only changes which scores survive.</li>
 *   <li>{@link #attention}: blocked, each query's K^2 neighbour keys and values are gathered by one index select,
 *       so scores and outputs cost O(N K^2 D) for N patches instead of O(N^2 D).</li>
 * </ul>
 *
 * @param gridH  patch rows
 * @param gridW  patch columns
 * @param size   window side K, odd
 * @param prefix global tokens before the patches (0 or 1 class token)
 */
public record WindowAttention(int gridH, int gridW, int size, int prefix) {
    public WindowAttention {
        if (gridH < 1 || gridW < 1 || prefix < 0)
            throw new IllegalArgumentException("WindowAttention: grid " + gridH + " x " + gridW + " and prefix " + prefix + " must be positive");
        if (size < 1 || size % 2 == 0)
            throw new IllegalArgumentException("WindowAttention: window size must be odd and positive (centred on the patch), got " + size);
    }

    public int numPatches() {
        return gridH * gridW;
    }

    /** Sequence length L = prefix + N. */
    public int length() {
        return prefix + numPatches();
    }

    /** Whether patch i may attend to patch j (both in 0..N-1, row-major). */
    public boolean inWindow(int i, int j) {
        int r = i / gridW, c = i % gridW, r2 = j / gridW, c2 = j % gridW;
        return Math.abs(r - r2) <= size / 2 && Math.abs(c - c2) <= size / 2;
    }

    /** BOOL (L, L), true = masked: patch rows see their window and the prefix; prefix rows see everything. */
    public Tensor mask(Device device) {
        int l = length(), n = numPatches();
        boolean[] m = new boolean[l * l];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) m[(prefix + i) * l + prefix + j] = !inWindow(i, j);
        return Tensor.ofBooleans(m, l, l).to(device);
    }

    /**
     * Neighbour table: {@code index} I64 (N * K^2) with the K^2 window positions of every patch (row-major in the
     * window; positions outside the grid point at the patch itself) and {@code invalid} BOOL (N, prefix + K^2), true
     * where a window position falls outside the grid (the prefix columns are always valid).
     */
    public record Neighbours(Tensor index, Tensor invalid) {}

    public Neighbours neighbours(Device device) {
        int n = numPatches(), kk = size * size, half = size / 2;
        long[] idx = new long[n * kk];
        boolean[] invalid = new boolean[n * (prefix + kk)];
        for (int i = 0; i < n; i++) {
            int r = i / gridW, c = i % gridW;
            for (int dr = -half; dr <= half; dr++)
                for (int dc = -half; dc <= half; dc++) {
                    int w = (dr + half) * size + dc + half, r2 = r + dr, c2 = c + dc;
                    boolean inside = r2 >= 0 && r2 < gridH && c2 >= 0 && c2 < gridW;
                    idx[i * kk + w] = inside ? (long) r2 * gridW + c2 : i;
                    invalid[i * (prefix + kk) + prefix + w] = !inside;
                }
        }
        return new Neighbours(Tensor.ofLongs(idx, n * kk).to(device), Tensor.ofBooleans(invalid, n, prefix + kk).to(device));
    }

    /**
     * Blocked windowed attention {@code softmax(q k^T / sqrt(E)) v} restricted to the windows.
     *
     * @param q (B, H, L, E) with L = prefix + N
     * @param k (B, H, L, E)
     * @param v (B, H, L, E)
     * @param nb this window's {@link #neighbours} on q's device
     * @param dropoutP dropout on the attention weights (0 in evaluation)
     * @return (B, H, L, E)
     */
    public Tensor attention(Tensor q, Tensor k, Tensor v, Neighbours nb, double dropoutP, Random4j rng) {
        int[] s = q.shape();
        if (s.length != 4 || s[2] != length() || !Arrays.equals(s, k.shape()) || !Arrays.equals(s, v.shape()))
            throw new IllegalArgumentException("WindowAttention.attention: expected q, k, v (B, H, " + length() + ", E) for a "
                    + gridH + " x " + gridW + " grid with " + prefix + " prefix tokens, got q " + Arrays.toString(s) + ", k "
                    + Arrays.toString(k.shape()) + ", v " + Arrays.toString(v.shape()));
        int b = s[0], h = s[1], e = s[3], n = numPatches(), kk = size * size;
        double scale = 1 / Math.sqrt(e);
        Tensor qp = q.narrow(2, prefix, n), kp = k.narrow(2, prefix, n), vp = v.narrow(2, prefix, n);
        Tensor kn = kp.indexSelect(2, nb.index()).view(b, h, n, kk, e);            // (B, H, N, K^2, E)
        Tensor vn = vp.indexSelect(2, nb.index()).view(b, h, n, kk, e);
        Tensor scores = qp.unsqueeze(3).mul(kn).sum(-1, false).mul(scale);         // (B, H, N, K^2)
        if (prefix > 0) scores = Tensor.cat(java.util.List.of(qp.matmul(k.narrow(2, 0, prefix).mT()).mul(scale), scores), -1);
        Tensor w = scores.maskedFill(nb.invalid(), Double.NEGATIVE_INFINITY).softmax(-1); // (B, H, N, prefix + K^2)
        if (dropoutP > 0) w = NnOps.dropout(w, dropoutP, true, rng == null ? Random4j.global() : rng);
        Tensor out = w.narrow(-1, prefix, kk).unsqueeze(-1).mul(vn).sum(3, false); // (B, H, N, E)
        if (prefix == 0) return out;
        // (B, H, N, P, 1) * (B, H, 1, P, E) summed over P; elementwise rather than a matmul whose left operand would be
        // a strided column of w (the CPU matmul mishandles a 1-row operand with a non-unit column stride: see the notes)
        out = out.add(w.narrow(-1, 0, prefix).unsqueeze(-1).mul(v.narrow(2, 0, prefix).unsqueeze(2)).sum(3, false));
        // prefix queries attend to all L tokens
        Tensor qc = q.narrow(2, 0, prefix);
        Tensor wc = qc.matmul(k.mT()).mul(scale).softmax(-1);
        if (dropoutP > 0) wc = NnOps.dropout(wc, dropoutP, true, rng == null ? Random4j.global() : rng);
        return Tensor.cat(java.util.List.of(wc.matmul(v), out), 2);
    }

    /** FLOPs of the score and output products per head and batch element: full 4 L^2 E, blocked 4 L (prefix + K^2) E. */
    public long attentionFlops(int headDim, boolean blocked) {
        long l = length();
        return blocked ? 4L * (numPatches() * (long) (prefix + size * size) + (long) prefix * l) * headDim : 4L * l * l * headDim;
    }
}
