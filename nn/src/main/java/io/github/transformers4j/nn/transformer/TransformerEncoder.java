package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.util.function.Supplier;

/**
 * torch.nn.TransformerEncoder: {@code numLayers} encoder layers ({@code layers.0.*}, {@code layers.1.*}, ...) and an
 * optional final {@code norm}; shapes and masks as {@link TransformerEncoderLayer}. Built from a layer, as PyTorch's
 * {@code TransformerEncoder(encoder_layer, num_layers)}, the layers are copies of it (equal initial weights); built from
 * a factory, each layer has its own.
 *
 * <p>Padded positions are computed like the others (PyTorch's train-mode math); PyTorch's eval fast path with nested
 * tensors would output norm(0) there instead. Never rely on padded positions.
 */
public class TransformerEncoder extends Module implements EncoderForward {
    public final ModuleList<TransformerEncoderLayer> layers;
    public final LayerNorm norm; // null for none

    /**
     * PyTorch's {@code nn.TransformerEncoder(encoder_layer, num_layers)}: numLayers copies of {@code encoderLayer} (same
     * configuration, same initial weights, as PyTorch's deep copies), no final norm.
     */
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers) {
        this(encoderLayer, numLayers, null);
    }

    /** As PyTorch's {@code nn.TransformerEncoder(encoder_layer, num_layers, norm)}. */
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, LayerNorm norm) {
        this(() -> copyOf(encoderLayer), numLayers, norm);
    }

    private static TransformerEncoderLayer copyOf(TransformerEncoderLayer layer) {
        if (layer.getClass() != TransformerEncoderLayer.class) {
            throw new IllegalArgumentException("TransformerEncoder: cannot copy a " + layer.getClass().getSimpleName()
                    + "; pass a factory (() -> new ...) instead");
        }
        var copy = new TransformerEncoderLayer(layer.config);
        copy.to(layer.linear1.weight.data().dtype());
        copy.loadStateDict(layer.stateDict(), true);
        return copy;
    }

    /** numLayers layers made by {@code layerFactory} (each with its own initial weights), then {@code norm} (null for none). */
    public TransformerEncoder(Supplier<TransformerEncoderLayer> layerFactory, int numLayers, LayerNorm norm) {
        if (numLayers < 1) throw new IllegalArgumentException("TransformerEncoder: numLayers must be >= 1, got " + numLayers);
        layers = register("layers", new ModuleList<>());
        for (int i = 0; i < numLayers; i++) layers.add(layerFactory.get());
        this.norm = norm == null ? null : register("norm", norm);
    }

    /** Arguments as {@link TransformerEncoderLayer#forward(Tensor, Tensor, Tensor, boolean)}, passed to every layer. */
    @Override
    public Tensor forward(Tensor src, Tensor mask, Tensor srcKeyPaddingMask, boolean isCausal) {
        Tensor x = src;
        for (TransformerEncoderLayer layer : layers) {
            Tensor in = x; // inference: each layer's temporaries are released when it returns
            x = Memory.transientScope(() -> layer.forward(in, mask, srcKeyPaddingMask, isCausal));
        }
        return norm == null ? x : norm.forward(x);
    }
}
