package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.tensor.Tensor;
import java.util.function.Supplier;

/**
 * torch.nn.TransformerDecoder: {@code numLayers} decoder layers ({@code layers.0.*}, ...) and an optional final
 * {@code norm}; shapes and masks as {@link TransformerDecoderLayer}.
 */
public class TransformerDecoder extends Module implements DecoderForward {
    public final ModuleList<TransformerDecoderLayer> layers;
    public final LayerNorm norm; // null for none

    public TransformerDecoder(Supplier<TransformerDecoderLayer> layerFactory, int numLayers, LayerNorm norm) {
        if (numLayers < 1) throw new IllegalArgumentException("TransformerDecoder: numLayers must be >= 1, got " + numLayers);
        layers = register("layers", new ModuleList<>());
        for (int i = 0; i < numLayers; i++) layers.add(layerFactory.get());
        this.norm = norm == null ? null : register("norm", norm);
    }

    /** Arguments as {@link TransformerDecoderLayer#forward}, passed to every layer. */
    @Override
    public Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask,
            Tensor memoryKeyPaddingMask, boolean tgtIsCausal, boolean memoryIsCausal) {
        Tensor x = tgt;
        for (TransformerDecoderLayer layer : layers) {
            x = layer.forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal);
        }
        return norm == null ? x : norm.forward(x);
    }

    /** A cache for {@link #forwardCached}, one entry per layer. */
    public KVCache newCache() {
        return new KVCache(layers.size());
    }

    /**
     * Incremental decoding: the new positions {@code tgt} through every layer with its cached keys and values (see
     * {@link TransformerDecoderLayer#forwardCached}), then the final norm.
     */
    public Tensor forwardCached(Tensor tgt, Tensor memory, Tensor memoryKeyPaddingMask, KVCache cache) {
        if (cache.numLayers() != layers.size())
            throw new IllegalArgumentException("TransformerDecoder.forwardCached: the cache has " + cache.numLayers() + " layers, the decoder " + layers.size());
        Tensor x = tgt;
        int i = 0;
        for (TransformerDecoderLayer layer : layers) x = layer.forwardCached(x, memory, memoryKeyPaddingMask, cache.layer(i++));
        return norm == null ? x : norm.forward(x);
    }
}
