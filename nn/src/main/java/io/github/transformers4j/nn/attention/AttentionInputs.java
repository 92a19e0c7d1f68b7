package io.github.transformers4j.nn.attention;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Shared front and back end of the multi-head attention modules: argument checks with shapes in the messages, the
 * (L, B, E) / unbatched layouts brought to (B, L, E), masks brought to what scaledDotProductAttention takes (a bool
 * attnMask inverted: true = attend, {@link io.github.transformers4j.nn.functional.SdpaOptions}'s sense), and heads
 * split (B, L, H*hd) -> (B, H, L, hd) and merged back.
 */
record AttentionInputs(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, Tensor attnMask, boolean unbatched) {

    /** Checks and normalizes to batch-first (B, L, E) inputs; keyPaddingMask (B, S); attnMask (L, S) or (B, H, L, S), bool ones inverted. */
    static AttentionInputs of(String who, Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, Tensor attnMask,
            int embedDim, int kdim, int vdim, int numHeads, boolean batchFirst) {
        String args = "query " + str(query) + ", key " + str(key) + ", value " + str(value);
        if (query.dim() != 2 && query.dim() != 3) {
            throw new IllegalArgumentException(who + ": query must be (B, L, E), (L, B, E) or unbatched (L, E), got " + args);
        }
        if (key.dim() != query.dim() || value.dim() != query.dim()) {
            throw new IllegalArgumentException(who + ": query, key and value must have the same rank, got " + args);
        }
        if (query.size(-1) != embedDim) {
            throw new IllegalArgumentException(who + ": query has embed dim " + query.size(-1) + " but embedDim is " + embedDim + " (" + args + ")");
        }
        if (key.size(-1) != kdim) throw new IllegalArgumentException(who + ": key has dim " + key.size(-1) + " but kdim is " + kdim + " (" + args + ")");
        if (value.size(-1) != vdim) throw new IllegalArgumentException(who + ": value has dim " + value.size(-1) + " but vdim is " + vdim + " (" + args + ")");
        boolean unbatched = query.dim() == 2;
        Tensor q = query, k = key, v = value, kpm = keyPaddingMask;
        if (unbatched) {
            q = q.unsqueeze(0);
            k = k.unsqueeze(0);
            v = v.unsqueeze(0);
            if (kpm != null && kpm.dim() == 1) kpm = kpm.unsqueeze(0);
        } else if (!batchFirst) {
            q = q.transpose(0, 1);
            k = k.transpose(0, 1);
            v = v.transpose(0, 1);
        }
        int b = q.size(0), l = q.size(1), s = k.size(1);
        if (k.size(0) != b || v.size(0) != b) {
            throw new IllegalArgumentException(who + ": batch sizes of query, key and value differ (" + args + ", batchFirst " + batchFirst + ")");
        }
        if (v.size(1) != s) throw new IllegalArgumentException(who + ": key and value lengths differ (" + args + ")");
        if (kpm != null && (kpm.dtype() != DType.BOOL || kpm.dim() != 2 || kpm.size(0) != b || kpm.size(1) != s)) {
            throw new IllegalArgumentException(who + ": keyPaddingMask must be BOOL (B, S) = [" + b + ", " + s + "] (true = padding), got "
                    + kpm.dtype() + " " + str(keyPaddingMask) + " for " + args);
        }
        Tensor m = attnMask;
        if (m != null) {
            if (m.dim() == 2 && m.size(0) == l && m.size(1) == s) {
                // (L, S): broadcasts over batch and heads
            } else if (m.dim() == 3 && m.size(0) == b * numHeads && m.size(1) == l && m.size(2) == s) {
                m = m.reshape(b, numHeads, l, s);
            } else {
                throw new IllegalArgumentException(who + ": attnMask must be (L, S) = [" + l + ", " + s + "] or (B * numHeads, L, S) = ["
                        + b * numHeads + ", " + l + ", " + s + "], got " + m.dtype() + " " + str(attnMask) + " for " + args);
            }
            if (m.dtype() == DType.BOOL) m = m.logicalNot(); // true = not allowed here, true = attend in SdpaOptions
            else if (!m.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException(who + ": attnMask must be BOOL (true = masked) or float (added), got " + m.dtype()
                        + " " + str(attnMask));
            }
        }
        return new AttentionInputs(q, k, v, kpm, m, unbatched);
    }

    /** (B, L, H * hd) -> (B, H, L, hd). */
    static Tensor splitHeads(Tensor x, int numHeads) {
        int b = x.size(0), l = x.size(1);
        return x.reshape(b, l, numHeads, x.size(2) / numHeads).transpose(1, 2);
    }

    /** (B, H, L, hd) -> (B, L, H * hd). */
    static Tensor mergeHeads(Tensor x) {
        return x.transpose(1, 2).reshape(x.size(0), x.size(2), x.size(1) * x.size(3));
    }

    /** Output (B, L, E) back to the caller's layout. */
    Tensor outputLayout(Tensor out, boolean batchFirst) {
        if (unbatched) return out.squeeze(0);
        return batchFirst ? out : out.transpose(0, 1);
    }

    /** Weights (B, [H,] L, S) back to the caller's layout (unbatched drops B). */
    Tensor weightsLayout(Tensor w) {
        return w == null || !unbatched ? w : w.squeeze(0);
    }

    static String str(Tensor t) {
        return t == null ? "null" : Arrays.toString(t.shape());
    }
}
