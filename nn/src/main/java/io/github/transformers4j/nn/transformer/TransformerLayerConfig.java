package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.nn.Activation;

/**
 * Arguments of PyTorch's TransformerEncoderLayer / TransformerDecoderLayer ({@code d_model, nhead, dim_feedforward,
 * dropout, activation, layer_norm_eps, batch_first, norm_first, bias}).
 * <pre>{@code
 * var cfg = TransformerLayerConfig.of(256, 4).withDimFeedforward(1024).withBatchFirst(true).withNormFirst(true);
 * }</pre>
 */
public record TransformerLayerConfig(int dModel, int nhead, int dimFeedforward, double dropout, Activation activation,
        double layerNormEps, boolean batchFirst, boolean normFirst, boolean bias) {

    public TransformerLayerConfig {
        if (dModel < 1 || nhead < 1 || dModel % nhead != 0) {
            throw new IllegalArgumentException("TransformerLayerConfig: dModel " + dModel + " must be divisible by nhead " + nhead);
        }
        if (dimFeedforward < 1) throw new IllegalArgumentException("TransformerLayerConfig: dimFeedforward must be >= 1, got " + dimFeedforward);
        if (dropout < 0 || dropout > 1) throw new IllegalArgumentException("TransformerLayerConfig: dropout must be in [0, 1], got " + dropout);
        if (activation == null) throw new IllegalArgumentException("TransformerLayerConfig: activation is null");
    }

    /** PyTorch's defaults: dim_feedforward 2048, dropout 0.1, relu, eps 1e-5, sequence-first, post-norm, biases. */
    public static TransformerLayerConfig of(int dModel, int nhead) {
        return new TransformerLayerConfig(dModel, nhead, 2048, 0.1, Activation.RELU, 1e-5, false, false, true);
    }

    public TransformerLayerConfig withDimFeedforward(int v) {
        return new TransformerLayerConfig(dModel, nhead, v, dropout, activation, layerNormEps, batchFirst, normFirst, bias);
    }

    public TransformerLayerConfig withDropout(double v) {
        return new TransformerLayerConfig(dModel, nhead, dimFeedforward, v, activation, layerNormEps, batchFirst, normFirst, bias);
    }

    public TransformerLayerConfig withActivation(Activation v) {
        return new TransformerLayerConfig(dModel, nhead, dimFeedforward, dropout, v, layerNormEps, batchFirst, normFirst, bias);
    }

    public TransformerLayerConfig withLayerNormEps(double v) {
        return new TransformerLayerConfig(dModel, nhead, dimFeedforward, dropout, activation, v, batchFirst, normFirst, bias);
    }

    public TransformerLayerConfig withBatchFirst(boolean v) {
        return new TransformerLayerConfig(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, v, normFirst, bias);
    }

    public TransformerLayerConfig withNormFirst(boolean v) {
        return new TransformerLayerConfig(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, v, bias);
    }

    public TransformerLayerConfig withBias(boolean v) {
        return new TransformerLayerConfig(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, v);
    }
}
