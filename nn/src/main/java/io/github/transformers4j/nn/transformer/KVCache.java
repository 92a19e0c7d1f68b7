package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Keys and values kept across the steps of incremental decoding ({@link TransformerDecoder#forwardCached}): per decoder
 * layer, the self-attention keys and values of every position decoded so far (B, H, t, hd), grown by each step, and the
 * cross-attention keys and values of the encoder memory (B, H, S, hd), computed at the first step and reused.
 *
 * <p>Memory: the cached tensors outlive the memory scopes of the steps (they are {@code keep()}-ed, and a tensor
 * replaced by a longer one is released at once); call {@link #release()} when decoding is done.
 */
public final class KVCache implements AutoCloseable {
    /** One layer's cached tensors (null until the first step). */
    public static final class Layer {
        Tensor selfKey, selfValue, crossKey, crossValue;

        /** Positions cached in this layer's self-attention. */
        public int length() {
            return selfKey == null ? 0 : selfKey.size(2);
        }

        /** The cached self-attention keys (B, H, t, hd), or null before the first step. */
        public Tensor selfKey() {
            return selfKey;
        }

        public Tensor selfValue() {
            return selfValue;
        }

        /** Appends one step's keys and values (B, H, s, hd) along the time axis. */
        public void appendSelf(Tensor k, Tensor v) {
            Tensor nk = selfKey == null ? k.contiguous() : Tensor.cat(List.of(selfKey, k), 2);
            Tensor nv = selfValue == null ? v.contiguous() : Tensor.cat(List.of(selfValue, v), 2);
            nk.keep();
            nv.keep();
            if (selfKey != null) {
                selfKey.release();
                selfValue.release();
            }
            selfKey = nk;
            selfValue = nv;
        }

        void setCross(Tensor k, Tensor v) {
            crossKey = k.contiguous().keep();
            crossValue = v.contiguous().keep();
        }

        void release() {
            for (Tensor t : new Tensor[] {selfKey, selfValue, crossKey, crossValue}) if (t != null) t.release();
            selfKey = selfValue = crossKey = crossValue = null;
        }
    }

    private final List<Layer> layers = new ArrayList<>();

    public KVCache(int numLayers) {
        for (int i = 0; i < numLayers; i++) layers.add(new Layer());
    }

    public Layer layer(int i) {
        return layers.get(i);
    }

    public int numLayers() {
        return layers.size();
    }

    /** Positions decoded so far. */
    public int length() {
        return layers.getFirst().length();
    }

    /**
     * Keeps the batch rows {@code index} (I64 (B')) of the self-attention cache, in that order (beam search: each surviving
     * beam continues from its parent's keys and values). The cross-attention cache is left as it is: beams reorder only
     * within their example, whose memory rows are identical.
     */
    public void reorder(Tensor index) {
        for (Layer l : layers) {
            if (l.selfKey == null) continue;
            Tensor k = l.selfKey.indexSelect(0, index).keep(), v = l.selfValue.indexSelect(0, index).keep();
            l.selfKey.release();
            l.selfValue.release();
            l.selfKey = k;
            l.selfValue = v;
        }
    }

    public void release() {
        layers.forEach(Layer::release);
    }

    @Override
    public void close() {
        release();
    }
}
