package io.github.transformers4j.models.mae;

import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * MAE's per-sample random masking, as index tensors:
 * <pre>
 * noise       = rand(B, N)                   (the counter-based generator: the same masks on every device)
 * ids_shuffle = argsort(noise, dim 1)        the first numKeep patches of each row stay visible
 * ids_restore = argsort(ids_shuffle, dim 1)  the inverse permutation: ids_shuffle[b, ids_restore[b, i]] = i
 * mask[b, i]  = 0 if patch i is visible, 1 if hidden (original patch order)
 * </pre>
 *
 * @param idsShuffle I64 (B, N)
 * @param idsRestore I64 (B, N)
 * @param mask       F32 (B, N)
 * @param numKeep    visible patches per image
 */
public record Masking(Tensor idsShuffle, Tensor idsRestore, Tensor mask, int numKeep) {
    /** Random masks for {@code batch} images of {@code numPatches}, keeping {@code numKeep}, on {@code device}. */
    public static Masking random(Random4j rng, int batch, int numPatches, int numKeep, Device device) {
        float[] noise = Tensor.rand(rng, batch, numPatches).toFloatArray();
        long[] shuffle = new long[batch * numPatches];
        for (int b = 0; b < batch; b++) {
            int row = b * numPatches;
            Integer[] order = IntStream.range(0, numPatches).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble(i -> noise[row + i])); // stable: ties keep index order
            for (int i = 0; i < numPatches; i++) shuffle[row + i] = order[i];
        }
        return of(Tensor.ofLongs(shuffle, batch, numPatches).to(device), numKeep);
    }

    /** The masking given by a chosen {@code idsShuffle} (B, N) (each row a permutation of 0..N-1). */
    public static Masking of(Tensor idsShuffle, int numKeep) {
        if (idsShuffle.dim() != 2) throw new IllegalArgumentException("Masking: ids_shuffle must be (B, N), got " + Arrays.toString(idsShuffle.shape()));
        int b = idsShuffle.size(0), n = idsShuffle.size(1);
        if (numKeep < 1 || numKeep > n) throw new IllegalArgumentException("Masking: numKeep " + numKeep + " outside [1, " + n + "]");
        long[] s = idsShuffle.toLongArray();
        long[] restore = new long[b * n];
        float[] mask = new float[b * n];
        for (int r = 0; r < b; r++) {
            boolean[] seen = new boolean[n];
            for (int i = 0; i < n; i++) {
                long p = s[r * n + i];
                if (p < 0 || p >= n || seen[(int) p])
                    throw new IllegalArgumentException("Masking: row " + r + " of ids_shuffle is not a permutation of 0.." + (n - 1));
                seen[(int) p] = true;
                restore[r * n + (int) p] = i;
                mask[r * n + (int) p] = i < numKeep ? 0 : 1;
            }
        }
        Device d = idsShuffle.device();
        return new Masking(idsShuffle, Tensor.ofLongs(restore, b, n).to(d), Tensor.of(mask, b, n).to(d), numKeep);
    }

    /** The visible patches' indices (B, numKeep): the first numKeep columns of ids_shuffle. */
    public Tensor idsKeep() {
        return idsShuffle.narrow(1, 0, numKeep);
    }

    /** Rows {@code ids} (B, K) of x (B, N, D) -> (B, K, D): {@code gather(x, 1, ids[..., None].expand(B, K, D))}. */
    public static Tensor gatherTokens(Tensor x, Tensor ids) {
        int b = ids.size(0), k = ids.size(1), d = x.size(2);
        return x.gather(1, ids.unsqueeze(-1).expand(b, k, d).contiguous());
    }
}
